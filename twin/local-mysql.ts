/**
 * A throwaway MariaDB server (Debian's `mariadbd`) on a loopback port: the local twin's
 * stand-in for an Aurora MySQL cluster, and the engine behind the local RDS Data API.
 *
 * A fresh data folder is initialised with `mariadb-install-db` (under a second); one that
 * already holds a database is started as it is, so the twin keeps its data across restarts.
 * Each start creates (or re-keys) a TCP user with a new random password. The server runs in
 * its own process group, stopped by its pid in `close()`, on this process's exit, and by a
 * watchdog that notices when this process dies without either (a crashed test, SIGKILL).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, readFileSync, closeSync as syncClose } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';

const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const USER = 'mlserve';
const HOST = '127.0.0.1';
/** A redo log of 16 MiB rather than 96: a new data folder takes 26 MB of disk instead of 114. */
const INNODB_LOG_FILE_SIZE = '--innodb-log-file-size=16M';
/** Longest path a Unix socket may have (108 bytes with the terminating NUL on Linux). */
const MAX_SOCKET_PATH = 100;

export interface LocalMysqlOptions {
  /**
   * The server's folder (MariaDB's datadir is `<dataDir>/data`); kept on close.
   * @default - a temporary folder, removed on close
   */
  readonly dataDir?: string;
  /** @default - a free port */
  readonly port?: number;
  /** How long the server may take to accept connections, in ms. @default 30_000 */
  readonly startTimeoutMs?: number;
}

export interface LocalMysql {
  readonly host: string;
  readonly port: number;
  /** The mariadbd process's id. */
  readonly pid: number;
  /** A user with every privilege, reachable over TCP from 127.0.0.1. */
  readonly user: string;
  readonly password: string;
  readonly dataDir: string;
  /** Stops the server (SIGTERM, then SIGKILL if it has not exited in time); idempotent. */
  close(): Promise<void>;
}

export async function startLocalMysql(options: LocalMysqlOptions = {}): Promise<LocalMysql> {
  await requireBinaries();
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'mlserve-mysql-')));
  try {
    await mkdir(dataDir, { recursive: true });
    refuseIfRunning(dataDir);
    const datadir = path.join(dataDir, 'data');
    if (!existsSync(path.join(datadir, 'mysql'))) await installDb(dataDir, datadir);
    // Without a fixed port, a port taken between the probe and the bind is retried with another.
    for (let attempt = 1; ; attempt++) {
      const port = options.port ?? (await freePort());
      try {
        return await launch({ dataDir, datadir, port, ownsDir, startTimeoutMs: options.startTimeoutMs ?? 30_000 });
      } catch (error) {
        if (options.port !== undefined || attempt >= 3 || !/Address already in use/.test(String(error))) throw error;
      }
    }
  } catch (error) {
    if (ownsDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function requireBinaries(): Promise<void> {
  for (const bin of [MARIADBD, INSTALL_DB]) {
    await access(bin).catch(() => {
      throw new Error(`${bin} is missing: install MariaDB's server (apt-get install mariadb-server)`);
    });
  }
}

/** A server left running on this folder (by a twin that was killed) would hold InnoDB's locks. */
function refuseIfRunning(dataDir: string): void {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(path.join(dataDir, 'mariadbd.pid'), 'utf8'), 10);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && isMariadbd(pid)) {
    throw new Error(`a MariaDB server (pid ${pid}) still runs on ${dataDir}; stop it before starting another`);
  }
}

/** Whether `pid` is a live (not zombie) mariadbd. */
function isMariadbd(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return stat.includes('(mariadbd)') && state !== 'Z';
  } catch {
    return false;
  }
}

const runAsRoot = () => process.getuid?.() === 0;

async function installDb(dataDir: string, datadir: string): Promise<void> {
  const args = [
    '--no-defaults',
    `--datadir=${datadir}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
    INNODB_LOG_FILE_SIZE,
    ...(runAsRoot() ? ['--user=root'] : []),
  ];
  const existed = existsSync(datadir);
  try {
    await promisify(execFile)(INSTALL_DB, args, { cwd: dataDir, timeout: 60_000 });
  } catch (error) {
    // A half-made data folder would pass for an initialised one on the next start.
    if (!existed) await rm(datadir, { recursive: true, force: true });
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`mariadb-install-db failed: ${(error as Error).message}\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

interface LaunchSettings {
  readonly dataDir: string;
  readonly datadir: string;
  readonly port: number;
  readonly ownsDir: boolean;
  readonly startTimeoutMs: number;
}

async function launch(settings: LaunchSettings): Promise<LocalMysql> {
  const { dataDir, datadir, port } = settings;
  const password = randomBytes(18).toString('base64url');
  const initFile = path.join(dataDir, 'init.sql');
  await writeFile(
    initFile,
    [
      `CREATE USER IF NOT EXISTS '${USER}'@'${HOST}' IDENTIFIED BY '${password}';`,
      `ALTER USER '${USER}'@'${HOST}' IDENTIFIED BY '${password}';`,
      `GRANT ALL PRIVILEGES ON *.* TO '${USER}'@'${HOST}' WITH GRANT OPTION;`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const errorLog = path.join(dataDir, 'mariadbd.err');
  await rm(errorLog, { force: true });
  const output = openSync(errorLog, 'a');
  const args = [
    '--no-defaults',
    `--datadir=${datadir}`,
    `--socket=${socketPath(dataDir)}`,
    `--pid-file=${path.join(dataDir, 'mariadbd.pid')}`,
    `--log-error=${errorLog}`,
    `--init-file=${initFile}`,
    `--bind-address=${HOST}`,
    `--port=${port}`,
    '--skip-name-resolve',
    '--skip-log-bin',
    // Aurora MySQL's defaults, where MariaDB's differ.
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_general_ci',
    '--default-time-zone=+00:00',
    // A development server: small, quick to start and stop.
    '--performance-schema=OFF',
    '--innodb-buffer-pool-size=64M',
    INNODB_LOG_FILE_SIZE,
    '--innodb-flush-log-at-trx-commit=2',
    '--innodb-buffer-pool-dump-at-shutdown=OFF',
    '--innodb-buffer-pool-load-at-startup=OFF',
    ...(runAsRoot() ? ['--user=root'] : []),
  ];
  // Its own process group, so a Ctrl-C at the terminal reaches the twin, which stops it in order.
  const child = spawn(MARIADBD, args, { stdio: ['ignore', output, output], detached: true });
  syncClose(output);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${MARIADBD}`);

  const stopOnExit = () => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.once('exit', stopOnExit);
  const watchdog = startWatchdog(pid);
  void exited.then(() => {
    watchdog.kill('SIGKILL');
    process.off('exit', stopOnExit);
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      process.off('exit', stopOnExit);
      watchdog.kill('SIGKILL');
      await stop(child, exited);
      await rm(initFile, { force: true });
      if (settings.ownsDir) await rm(dataDir, { recursive: true, force: true });
    })();
    return closing;
  };

  try {
    await waitUntilAccepting({ port, password, exited, errorLog, timeoutMs: settings.startTimeoutMs });
  } catch (error) {
    await stop(child, exited);
    process.off('exit', stopOnExit);
    await rm(initFile, { force: true });
    throw error;
  }
  await rm(initFile, { force: true });
  return { host: HOST, port, pid, user: USER, password, dataDir, close };
}

/** Unix sockets have a short path limit; a deep data folder gets its socket under the temp folder. */
function socketPath(dataDir: string): string {
  const inDir = path.join(dataDir, 'mysqld.sock');
  return inDir.length <= MAX_SOCKET_PATH
    ? inDir
    : path.join(tmpdir(), `mlserve-mysql-${randomBytes(6).toString('hex')}.sock`);
}

/**
 * A shell that waits on a pipe from this process: when this process dies in any way, the pipe
 * closes and the shell stops the server, if that pid still is a MariaDB server.
 */
function startWatchdog(pid: number): ChildProcess {
  const script = 'read -r _; if [ "$(cat /proc/$1/comm 2>/dev/null)" = mariadbd ]; then kill -TERM "$1"; fi';
  const watchdog = spawn('/bin/sh', ['-c', script, 'mlserve-mysql-watchdog', String(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watchdog.once('error', () => undefined);
  watchdog.unref();
  (watchdog.stdin as unknown as Socket | null)?.unref();
  watchdog.stdin?.on('error', () => undefined);
  return watchdog;
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await within(exited, 30_000)) return;
  child.kill('SIGKILL');
  await within(exited, 10_000);
}

async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = await Promise.race([promise.then(() => true as const), timedOut]);
  clearTimeout(timer);
  return done;
}

async function waitUntilAccepting(wait: {
  port: number;
  password: string;
  exited: Promise<void>;
  errorLog: string;
  timeoutMs: number;
}): Promise<void> {
  let hasExited = false;
  void wait.exited.then(() => {
    hasExited = true;
  });
  const deadline = Date.now() + wait.timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (hasExited) {
      throw new Error(`mariadbd exited while starting:\n${await tail(wait.errorLog)}`);
    }
    try {
      const connection = await createConnection({
        host: HOST,
        port: wait.port,
        user: USER,
        password: wait.password,
        connectTimeout: 1_000,
      });
      await connection.end();
      return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `mariadbd did not accept connections within ${wait.timeoutMs} ms (${(lastError as Error)?.message}):\n${await tail(wait.errorLog)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function tail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-30).join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
