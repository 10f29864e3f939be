import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The Python that runs moto for the tests. In order: MOTO_PYTHON if set, `python3` when it already has moto, else a
 * virtualenv kept in a cache folder with the pinned moto installed by pip (created once, reused by later runs).
 */
export const MOTO_REQUIREMENT = 'moto[server]==5.2.1';

export interface MotoPythonOptions {
  /** Environment to search PATH in and to read MOTO_PYTHON from. */
  env: NodeJS.ProcessEnv;
  /** Folder that holds the cached virtualenv. */
  cacheDir: string;
  /** Progress lines (creating the virtualenv takes a while the first time). */
  log?: (line: string) => void;
}

/** Why moto cannot be used, with what to do about it; the test run stops with this one message. */
export class MotoUnavailableError extends Error {
  override readonly name = 'MotoUnavailableError';
}

const HOW_TO_FIX = `Install it yourself (pip install "${MOTO_REQUIREMENT}") or set MOTO_PYTHON to a Python that has it.`;

export function resolveMotoPython({ env, cacheDir, log = () => undefined }: MotoPythonOptions): string {
  const chosen = env.MOTO_PYTHON;
  if (chosen) {
    if (hasMoto(chosen, env)) return chosen;
    throw new MotoUnavailableError(`MOTO_PYTHON is ${chosen}, which cannot import moto.server. ${HOW_TO_FIX}`);
  }
  const version = run('python3', ['--version'], env);
  if (version.missing) {
    throw new MotoUnavailableError(
      'The integration and end-to-end tests run AWS on the moto emulator, which needs Python 3, and python3 is not on PATH. ' +
        `Install Python 3 (with its venv module, e.g. apt-get install python3 python3-venv), or set MOTO_PYTHON to a Python that has "${MOTO_REQUIREMENT}".`,
    );
  }
  if (hasMoto('python3', env)) return 'python3';
  const venv = join(cacheDir, venvName());
  const venvPython = join(venv, 'bin', 'python');
  if (existsSync(venvPython)) {
    if (hasMoto(venvPython, env)) return venvPython;
    rmSync(venv, { recursive: true, force: true }); // broken (its Python was upgraded or removed): build it again
  }
  return createVenv(venv, env, log);
}

function createVenv(venv: string, env: NodeJS.ProcessEnv, log: (line: string) => void): string {
  // Built beside its final place and renamed into it, so that a run stopped half-way, or two runs at once, never leave
  // a half-installed virtualenv behind. The tests run moto as `python script.py`, which a moved virtualenv supports.
  const building = `${venv}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(dirname(venv), { recursive: true });
  log(`moto is not installed for python3: installing ${MOTO_REQUIREMENT} into ${venv} (once; later runs reuse it)`);
  try {
    const created = run('python3', ['-m', 'venv', building], env);
    if (created.status !== 0) {
      throw new MotoUnavailableError(
        `python3 could not create a virtualenv for moto in ${building}: ${tail(created.output)}. ` +
          `Install the venv module (e.g. apt-get install python3-venv). ${HOW_TO_FIX}`,
      );
    }
    const python = join(building, 'bin', 'python');
    const installed = run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', MOTO_REQUIREMENT], env);
    if (installed.status !== 0 || !hasMoto(python, env)) {
      throw new MotoUnavailableError(`pip could not install ${MOTO_REQUIREMENT} (is PyPI reachable?): ${tail(installed.output)}. ${HOW_TO_FIX}`);
    }
    try {
      renameSync(building, venv);
    } catch (error) {
      if (!existsSync(join(venv, 'bin', 'python'))) throw error; // another run finished first: use its virtualenv
    }
    return join(venv, 'bin', 'python');
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

function venvName(): string {
  return `moto-${MOTO_REQUIREMENT.split('==')[1]}`;
}

function hasMoto(python: string, env: NodeJS.ProcessEnv): boolean {
  return run(python, ['-c', 'import moto.server'], env).status === 0;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): { status: number | null; missing: boolean; output: string } {
  const result = spawnSync(command, args, { env, encoding: 'utf8' });
  const missing = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return { status: result.error ? null : result.status, missing, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}` };
}

function tail(output: string): string {
  const lines = output.trim().split('\n').filter(Boolean);
  return lines.slice(-3).join(' / ') || 'no output';
}
