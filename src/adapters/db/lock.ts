import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * PGlite is a single-process database: two processes opening one data folder corrupt it. A lock
 * file created with O_EXCL records the holder; a second opener fails fast naming it. A lock left
 * by a process that died (SIGKILL, power loss) is detected by its pid and taken over.
 */
export interface DataDirLock {
  release(): void;
}

interface Holder {
  pid: number;
  hostname: string;
  command: string;
  started_at: string;
}

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly holder: Holder,
  ) {
    super(
      `the data folder ${dataDir} is in use by pid ${holder.pid} on ${holder.hostname} ` +
        `("${holder.command}", started ${holder.started_at}). Stop that process, or set ` +
        'PERKS_DATA_DIR to another folder, or use PostgreSQL (DATABASE_URL) to run several processes.',
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

export function lockDataDir(dataDir: string, command: string): DataDirLock {
  const file = path.join(dataDir, 'perks.lock');
  const me: Holder = {
    pid: process.pid,
    hostname: os.hostname(),
    command,
    started_at: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          const current = readHolder(file);
          if (current?.pid === me.pid) unlinkSync(file);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(file);
      // A lock from another host cannot be checked for liveness; refuse rather than guess.
      if (holder && (holder.hostname !== me.hostname || isAlive(holder.pid)) && holder.pid !== process.pid) {
        throw new DataDirLockedError(dataDir, holder);
      }
      if (holder?.pid === process.pid) throw new DataDirLockedError(dataDir, holder);
      // The holder is gone (or the file is torn): remove the stale lock and try again.
      try {
        unlinkSync(file);
      } catch {}
    }
  }
  throw new Error(`could not take the lock ${file}`);
}
