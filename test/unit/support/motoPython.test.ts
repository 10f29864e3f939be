import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { MOTO_REQUIREMENT, MotoUnavailableError, resolveMotoPython } from '../../support/motoPython.js';

/**
 * How the test set-up finds or provisions moto, with a fake python3 on PATH: it answers `-c 'import moto.server'`
 * by whether a `moto-installed` file sits beside it, `-m venv DIR` by copying itself to DIR/bin/python, and
 * `-m pip install` by logging the requirement and creating that file (or failing as an unreachable PyPI does).
 */
const FAKE_PYTHON = `#!/bin/sh
here=$(dirname "$0")
case "$1" in
  --version) echo "Python 3.11.2" ;;
  -c) [ -f "$here/moto-installed" ] ;;
  -m)
    case "$2" in
      venv) mkdir -p "$3/bin" && cp "$0" "$3/bin/python" ;;
      pip)
        shift 3
        echo "$*" >>"$FAKE_LOG"
        if [ -n "$FAKE_PIP_FAILS" ]; then
          echo "ERROR: Could not find a version that satisfies the requirement $FAKE_PIP_FAILS" >&2
          exit 1
        fi
        touch "$here/moto-installed" ;;
      *) exit 2 ;;
    esac ;;
  *) exit 2 ;;
esac
`;

const root = mkdtempSync(join(tmpdir(), 'moto-python-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let bin: string;
let cacheDir: string;
let pipLog: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  const case_ = mkdtempSync(join(root, 'case-'));
  bin = join(case_, 'bin');
  cacheDir = join(case_, 'cache');
  pipLog = join(case_, 'pip.log');
  mkdirSync(bin);
  writeFileSync(join(bin, 'python3'), FAKE_PYTHON);
  chmodSync(join(bin, 'python3'), 0o755);
  env = { PATH: `${bin}:/usr/bin:/bin`, FAKE_LOG: pipLog };
});

const pipCalls = () => (existsSync(pipLog) ? readFileSync(pipLog, 'utf8').trim().split('\n') : []);
const venvPython = () => join(cacheDir, 'moto-5.2.1', 'bin', 'python');

describe('the Python that runs moto for the tests', () => {
  it('is python3 itself when it already has moto, with nothing installed', () => {
    writeFileSync(join(bin, 'moto-installed'), '');
    expect(resolveMotoPython({ env, cacheDir })).toBe('python3');
    expect(pipCalls()).toEqual([]);
    expect(existsSync(cacheDir)).toBe(false);
  });

  it('is MOTO_PYTHON when set, and a MOTO_PYTHON without moto is an error that says so', () => {
    const other = join(bin, 'python3');
    writeFileSync(join(bin, 'moto-installed'), '');
    expect(resolveMotoPython({ env: { ...env, MOTO_PYTHON: other }, cacheDir })).toBe(other);
    rmSync(join(bin, 'moto-installed'));
    expect(() => resolveMotoPython({ env: { ...env, MOTO_PYTHON: other }, cacheDir })).toThrow(
      `MOTO_PYTHON is ${other}, which cannot import moto.server. Install it yourself (pip install "moto[server]==5.2.1")`,
    );
    expect(pipCalls()).toEqual([]);
  });

  it('otherwise installs the pinned moto into a cached virtualenv once, and reuses it on later runs', () => {
    const progress: string[] = [];
    expect(resolveMotoPython({ env, cacheDir, log: (line) => progress.push(line) })).toBe(venvPython());
    expect(pipCalls()).toEqual([`--disable-pip-version-check --quiet ${MOTO_REQUIREMENT}`]);
    expect(MOTO_REQUIREMENT).toBe('moto[server]==5.2.1');
    expect(progress).toEqual([expect.stringContaining(`installing moto[server]==5.2.1 into ${join(cacheDir, 'moto-5.2.1')}`)]);

    expect(resolveMotoPython({ env, cacheDir, log: (line) => progress.push(line) })).toBe(venvPython());
    expect(pipCalls()).toHaveLength(1);
    expect(progress).toHaveLength(1);
    expect(readdirSync(cacheDir)).toEqual(['moto-5.2.1']);
  });

  it('builds the virtualenv again when the cached one lost its moto', () => {
    resolveMotoPython({ env, cacheDir });
    rmSync(join(cacheDir, 'moto-5.2.1', 'bin', 'moto-installed'));
    expect(resolveMotoPython({ env, cacheDir })).toBe(venvPython());
    expect(pipCalls()).toHaveLength(2);
  });

  it('fails with pip’s reason and the way out when the install fails, leaving no half-made virtualenv', () => {
    env.FAKE_PIP_FAILS = MOTO_REQUIREMENT;
    const attempt = () => resolveMotoPython({ env, cacheDir });
    expect(attempt).toThrow(MotoUnavailableError);
    expect(attempt).toThrow(
      'pip could not install moto[server]==5.2.1 (is PyPI reachable?): ERROR: Could not find a version that satisfies the requirement moto[server]==5.2.1. ' +
        'Install it yourself (pip install "moto[server]==5.2.1") or set MOTO_PYTHON to a Python that has it.',
    );
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('fails with one message saying Python 3 is needed when python3 is not on PATH', () => {
    const empty = join(root, 'empty-path');
    mkdirSync(empty, { recursive: true });
    expect(() => resolveMotoPython({ env: { PATH: empty }, cacheDir })).toThrow(
      /needs Python 3, and python3 is not on PATH\. Install Python 3 \(with its venv module.*or set MOTO_PYTHON/,
    );
    expect(existsSync(cacheDir)).toBe(false);
  });
});
