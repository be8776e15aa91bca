/**
 * The baseline build of a comparison run (`npm run bench -- --baseline <git-ref>`): the ref is
 * checked out in a temporary worktree (`git worktree add --detach bench/.run/baseline-<sha>`),
 * its src/ transpiled the same way as ours, and the worktree removed afterwards. Node resolves the
 * baseline's modules up the tree to the repository's node_modules; if the baseline needs a runtime
 * dependency ours lacks (or another major version), `npm ci` runs in the worktree instead.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/support/proc';
import { BENCH_RUN_DIR, transpileGateway } from './gateway-process';

export interface BaselineBuild {
  ref: string;
  sha: string;
  dir: string;
  mainJs: string;
  files: number;
  /** true when the worktree got its own node_modules (`npm ci`) */
  npmCi: boolean;
  /** removes the worktree (idempotent) */
  remove(): void;
}

/** The leading number of a semver range such as `^11.2.0`, `~5.9`, `1.x`; null if there is none. */
export function rangeMajor(range: string): number | null {
  const m = /^\s*[\^~>=v]*\s*(\d+)/.exec(range);
  return m?.[1] !== undefined ? Number(m[1]) : null;
}

/**
 * Runtime dependencies of the baseline that the installed node_modules cannot serve: absent, or a
 * different major version than the baseline's range asks for.
 */
export function missingDependencies(deps: Record<string, string>, installedVersion: (name: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const [name, range] of Object.entries(deps)) {
    const have = installedVersion(name);
    const want = rangeMajor(range);
    if (have === undefined || (want !== null && rangeMajor(have) !== want)) out.push(name);
  }
  return out;
}

function installedVersion(root: string, name: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function removeWorktree(dir: string): void {
  if (existsSync(dir)) {
    try {
      git('worktree', 'remove', '--force', dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  git('worktree', 'prune');
}

export function prepareBaseline(ref: string, log: (msg: string) => void): BaselineBuild {
  // a ref is passed to git as an argument (no shell); one that looks like an option is refused
  if (!ref || ref.startsWith('-')) throw new Error(`--baseline: not a git ref: ${JSON.stringify(ref)}`);
  const sha = git('rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`);
  const dir = join(BENCH_RUN_DIR, `baseline-${sha.slice(0, 12)}`);
  removeWorktree(dir); // left over by an interrupted run
  git('worktree', 'add', '--detach', dir, sha);
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    removeWorktree(dir);
  };
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const missing = missingDependencies(pkg.dependencies ?? {}, (name) => installedVersion(REPO_ROOT, name));
    let npmCi = false;
    if (missing.length > 0) {
      log(`baseline ${ref}: node_modules lacks ${missing.join(', ')} → npm ci in ${dir}`);
      execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
      npmCi = true;
    }
    const tr = transpileGateway(join(dir, 'src'), join(dir, 'bench', '.run', 'gw-dist'));
    return { ref, sha, dir, mainJs: tr.mainJs, files: tr.files, npmCi, remove };
  } catch (e) {
    remove();
    throw e;
  }
}
