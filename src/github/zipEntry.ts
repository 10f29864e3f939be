import { crc32, inflateRawSync } from 'node:zlib';

/** A workflow artifact that cannot be read as the zip GitHub serves. */
export class ArtifactZipError extends Error {
  override name = 'ArtifactZipError';
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

/**
 * One file of a zip archive (an artifact download), found through the central directory: stored or deflated
 * entries, no zip64, at most `maxBytes` once inflated, CRC-checked. Undefined when the archive has no such file.
 */
export function readZipEntry(zip: Buffer, name: string, maxBytes = 64 * 1024 * 1024): Buffer | undefined {
  const directory = endOfCentralDirectory(zip);
  let offset = directory.offset;
  for (let index = 0; index < directory.entries; index += 1) {
    if (zip.readUInt32LE(offset) !== CENTRAL_DIRECTORY_ENTRY) throw new ArtifactZipError(`zip central directory entry ${index} is corrupt`);
    const method = zip.readUInt16LE(offset + 10);
    const crc = zip.readUInt32LE(offset + 16);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localHeader = zip.readUInt32LE(offset + 42);
    const entryName = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    if (entryName !== name) continue;
    if (size > maxBytes) throw new ArtifactZipError(`zip entry ${name} is ${size} bytes; at most ${maxBytes} are read`);
    const data = zip.subarray(dataStart(zip, localHeader, name), dataStart(zip, localHeader, name) + compressedSize);
    const content = inflate(data, method, size, name);
    if (content.length !== size || crc32(content) !== crc) throw new ArtifactZipError(`zip entry ${name} fails its size or CRC check`);
    return content;
  }
  return undefined;
}

function endOfCentralDirectory(zip: Buffer): { entries: number; offset: number } {
  // The record is 22 bytes plus a comment of up to 65,535 bytes at the very end of the archive.
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at -= 1) {
    if (zip.readUInt32LE(at) !== END_OF_CENTRAL_DIRECTORY) continue;
    const entries = zip.readUInt16LE(at + 10);
    const offset = zip.readUInt32LE(at + 16);
    if (entries === 0xffff || offset === 0xffffffff) throw new ArtifactZipError('zip64 archives are not supported');
    return { entries, offset };
  }
  throw new ArtifactZipError(`not a zip archive (${zip.length} bytes, no end of central directory record)`);
}

function dataStart(zip: Buffer, localHeader: number, name: string): number {
  if (localHeader + 30 > zip.length || zip.readUInt32LE(localHeader) !== LOCAL_FILE_HEADER) {
    throw new ArtifactZipError(`zip entry ${name} has no local file header`);
  }
  return localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
}

function inflate(data: Buffer, method: number, size: number, name: string): Buffer {
  if (method === STORED) return Buffer.from(data);
  if (method === DEFLATED) {
    try {
      return inflateRawSync(data, { maxOutputLength: Math.max(size, 1) });
    } catch (error) {
      throw new ArtifactZipError(`zip entry ${name} cannot be inflated (${(error as Error).message})`);
    }
  }
  throw new ArtifactZipError(`zip entry ${name} uses compression method ${method}; only stored (0) and deflate (8) are read`);
}
