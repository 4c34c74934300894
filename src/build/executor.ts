// Runs one build: stages in dependency order (independent stages at the same time), each
// instruction as a step that either comes from the cache or runs and is stored as an
// intermediate image. The cache key of a step is its parent image plus everything that
// decides its result (see the key parts at each step kind).
import { span } from '../base/trace.ts';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ContainerFsOps, ContainerService } from '../containers/index.ts';
import { mkdirInRoot } from '../containers/rootfs.ts';
import { InvalidArgumentError, NotFoundError } from '../errdefs/index.ts';
import type { ImageService } from '../images/index.ts';
import type { BuildCacheStore } from '../metadata/index.ts';
import type { Digest } from '../oci/digest.ts';
import { hostPlatform, type Platform, parsePlatform } from '../oci/image.ts';
import { GlobalArgs, platformArgs, StageArgs } from './args.ts';
import { parseInstruction } from './dockerfile/parser.ts';
import { expandWord, type Lookup } from './dockerfile/expand.ts';
import type { Dockerfile, Instruction, Stage } from './dockerfile/types.ts';
import { baseStage, findStage, plan } from './graph.ts';
import { CacheSources } from './cache-from.ts';
import { copyText, nopInlineText, nopText, runText } from './history-text.ts';
import { commitStep, type ImageState, materialise, scratchState } from './image-step.ts';
import { applyMetadata, workdirPath } from './metadata-steps.ts';
import { bad, envLookup, flag, key, rememberSum, type SourceSum } from './step-helpers.ts';
import { mountScratch, type ScratchRoot } from './rootfs.ts';
import {
  checksumSources,
  confineRelative,
  expandSourcePattern,
  hasMeta,
  missingSourceNote,
} from './context/index.ts';
import { type CopyItem, type CopyPlan, copyInto, excluder, parseChmod } from './steps/copy.ts';
import { parseRunMounts, planRunMounts, type RunMount } from './steps/run-mounts.ts';
import { runArgv, runInContainer } from './steps/run.ts';
import { classifySources, downloadSources } from './steps/copy-sources.ts';
import type { NamedContext } from './context/named.ts';
import type { BuildEvent, BuildRequest } from './types.ts';

export interface ExecutorDeps {
  readonly images: ImageService;
  readonly containers: ContainerService;
  readonly fsops: ContainerFsOps;
  readonly cache: BuildCacheStore;
  readonly layersRoot: string;
  /** Directory of `RUN --mount=type=cache` contents, kept across builds. */
  readonly cacheMountsRoot: string;
  /** Pulls a missing base image; absent: a missing base is an error. */
  readonly pull?: (ref: string, platform: Platform | undefined, signal: AbortSignal) => Promise<Digest>;
  /** Downloads an ADD URL to `file`; returns the Last-Modified time if any. */
  readonly fetchUrl?: (url: string, file: string, signal: AbortSignal) => Promise<Date | undefined>;
  /**
   * Checksums of `COPY --from` sources by image ID, patterns and excludes, kept across builds
   * (an image's files never change, so neither do these).
   */
  readonly imageSourceSums?: Map<string, SourceSum>;
  /** Unpacks a local archive for ADD, confined to `dir`. */
  readonly extractArchive?: (file: string, dir: string) => Promise<void>;
}

export class BuildExecution {
  readonly #deps: ExecutorDeps;
  readonly #req: BuildRequest;
  readonly #df: Dockerfile;
  readonly #emit: (e: BuildEvent) => void;
  readonly #global: GlobalArgs;
  readonly #platform: Platform;
  readonly #stages = new Map<number, Promise<ImageState>>();
  readonly #roots = new Map<string, Promise<ScratchRoot>>();
  readonly #abort = new AbortController();
  readonly #tmpDir: string;
  /** File digests for COPY cache keys: the context's, taken as it was extracted, and more. */
  readonly #sums: Map<string, string>;
  readonly #pulled = new Map<string, Promise<Digest>>();
  #sources: CacheSources | undefined;
  #total = 0;
  #counter = 0;

  constructor(
    deps: ExecutorDeps,
    req: BuildRequest,
    df: Dockerfile,
    tmpDir: string,
    emit: (e: BuildEvent) => void,
  ) {
    this.#deps = deps;
    this.#req = req;
    this.#df = df;
    this.#emit = emit;
    this.#tmpDir = tmpDir;
    this.#sums = req.contextDigests ?? new Map();
    this.#platform = req.platform ? parsePlatform(req.platform) : hostPlatform();
    const host = hostPlatform();
    if (this.#platform.architecture !== host.architecture || this.#platform.os !== host.os) {
      throw new InvalidArgumentError(
        'BUILD_PLATFORM',
        `cannot build for ${req.platform}: Berth builds only for the host platform ${host.os}/${host.architecture}`,
      );
    }
    this.#global = new GlobalArgs(req.buildArgs, platformArgs(this.#platform, host));
    for (const a of df.metaArgs) {
      for (const { name, default: def } of a.args) {
        this.#global.declare(
          name,
          def === undefined ? undefined : expandWord(def, this.#global.lookup, df.directives.escape),
        );
      }
    }
    req.signal.addEventListener('abort', () => this.#abort.abort(req.signal.reason), { once: true });
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Builds the target stage; returns its final image state. */
  async run(): Promise<ImageState> {
    const { target, order } = plan(this.#df, this.#req.target, this.#global.lookup);
    this.#total = order.reduce((n, s) => n + 1 + s.instructions.length, 0);
    try {
      // Start every needed stage now: a stage waits only for what it uses, so independent
      // stages overlap.
      for (const s of order) this.#stage(s);
      const result = await this.#stage(target);
      const unused = this.#global.unused();
      if (unused.length > 0) {
        this.#emit({
          type: 'warning',
          message: `[Warning] One or more build-args [${unused.join(' ')}] were not consumed`,
        });
      }
      return result;
    } catch (err) {
      this.#abort.abort(err);
      await Promise.allSettled(this.#stages.values());
      throw err;
    } finally {
      await Promise.allSettled([...this.#roots.values()].map(async (r) => (await r).release()));
    }
  }

  #stage(s: Stage): Promise<ImageState> {
    let p = this.#stages.get(s.index);
    if (!p) {
      p = this.#runStage(s);
      p.catch(() => {}); // observed by whoever awaits it; a failure also aborts the build
      this.#stages.set(s.index, p);
    }
    return p;
  }

  #stageByRef(instr: Instruction, ref: string): Stage | undefined {
    return (
      findStage(this.#df.stages, ref) ??
      (ref === '' ? bad(instr, '--from needs a stage name or image') : undefined)
    );
  }

  /** The named context `ref` stands for, when no stage has that name (a stage wins, as in BuildKit's lookup order here). */
  #named(ref: string): NamedContext | undefined {
    if (findStage(this.#df.stages, ref)) return undefined;
    return this.#req.namedContexts?.get(ref);
  }

  /** An image reference with a named image context substituted. */
  #imageRef(ref: string): string {
    const n = this.#named(ref);
    return n && 'image' in n ? n.image : ref;
  }

  async #imageState(id: Digest): Promise<ImageState> {
    return { id, config: await this.#deps.images.config(id) };
  }

  async #resolveImage(ref: string, instr: Instruction): Promise<Digest> {
    const { images, pull } = this.#deps;
    // --pull: the registry's current image, once per reference and build.
    if (this.#req.pull && pull) {
      let p = this.#pulled.get(ref);
      if (!p) {
        p = pull(ref, this.#platform, this.signal);
        this.#pulled.set(ref, p);
      }
      return p;
    }
    const found = images.tryResolve(ref);
    if (found) return found.id;
    if (!pull) {
      throw new NotFoundError(
        'BUILD_IMAGE_NOT_FOUND',
        `Dockerfile:${instr.range.start.line}: base image "${ref}" not found: pull it, or build it first`,
      );
    }
    return pull(ref, this.#platform, this.signal);
  }

  async #root(state: ImageState): Promise<ScratchRoot> {
    const id = await materialise(this.#deps.images, state);
    let p = this.#roots.get(id);
    if (!p) {
      p = mountScratch(this.#deps.images, this.#deps.layersRoot, this.#tmpDir, state.config);
      this.#roots.set(id, p);
    }
    return p;
  }

  /** The image a `--from` names: a stage's result or an image (not mounted). */
  async #fromImage(instr: Instruction, ref: string): Promise<ImageState & { id: Digest }> {
    const stage = this.#stageByRef(instr, ref);
    const state = stage
      ? await this.#stage(stage)
      : await this.#imageState(await this.#resolveImage(this.#imageRef(ref), instr));
    return { id: await materialise(this.#deps.images, state), config: state.config };
  }

  /** The filesystem a `--from` names: a stage's result, a named directory context or an image. */
  async #fromRoot(instr: Instruction, ref: string): Promise<string> {
    const named = this.#named(ref);
    if (named && 'dir' in named) return named.dir;
    const stage = this.#stageByRef(instr, ref);
    const state = stage
      ? await this.#stage(stage)
      : await this.#imageState(await this.#resolveImage(this.#imageRef(ref), instr));
    return (await this.#root(state)).root;
  }

  /**
   * What each bind mount of a RUN reads, for its cache key (as BuildKit keys a step on its
   * mounts' content): the image ID of a stage or image, the content checksum of a folder of the
   * context or of a named context. A source that cannot be read keys as missing; mounting it
   * then fails with the mount's own message.
   */
  #bindSources(instr: Instruction, mounts: readonly RunMount[]): Promise<string[]> {
    return Promise.all(
      mounts
        .filter((m) => m.type === 'bind')
        .map(async (m) => {
          const from = m.options.from;
          const named = from !== undefined ? this.#named(from) : undefined;
          if (from !== undefined && !(named && 'dir' in named))
            return (await this.#fromImage(instr, from)).id;
          const root = named && 'dir' in named ? named.dir : this.#req.contextDir;
          const source = m.options.source ?? '.';
          return this.#checksum(root, [{ rel: confineRelative(source), pattern: source }], []).catch(
            () => 'missing',
          );
        }),
    );
  }

  /** Content checksum of COPY sources; file digests are cached for the whole build. */
  #checksum(root: string, items: readonly CopyItem[], exclude: readonly string[]): Promise<string> {
    const skipOf = excluder(exclude);
    const rels = items.map((i) => i.rel);
    return span('build.checksum', () =>
      checksumSources(root, rels, {
        cache: this.#sums,
        signal: this.signal,
        skip: (p) => {
          const src = rels.find((r) => p === r || p.startsWith(`${r}/`)) ?? '.';
          return src !== p && skipOf(src, src === '.' ? p : p.slice(src.length + 1));
        },
      }),
    );
  }

  #startStep(stage: Stage, text: string): number {
    const n = ++this.#counter;
    this.#emit({ type: 'step', stage: stage.name ?? String(stage.index), n, total: this.#total, text });
    return n;
  }

  /** Looks up `k`; on a miss runs `make` and records its result. */
  async #cached(
    stage: Stage,
    n: number,
    k: string,
    description: string,
    make: () => Promise<ImageState>,
    step: { readonly parent: Digest | undefined; readonly createdBy: string },
  ): Promise<ImageState> {
    const { cache, images } = this.#deps;
    const started = Date.now();
    const noCache =
      this.#req.noCache || (stage.name !== undefined && this.#req.noCacheFilter.includes(stage.name));
    const hit = noCache ? undefined : cache.get(k);
    const from = this.#req.cacheFrom ?? [];
    // Resolved once per build, when the first step asks: sources built by earlier stages count.
    if (from.length > 0 && !this.#sources) this.#sources = CacheSources.resolve(images, from);
    const sources = this.#sources;
    let image = hit && images.deps.meta.get(hit.image) ? hit.image : undefined;
    if (sources && image && !sources.allows(image)) image = undefined;
    if (sources && !image && !noCache) image = await sources.find(step.parent, step.createdBy);
    if (image) {
      if (hit?.image === image) cache.touch(k);
      this.#emit({ type: 'cached', n });
      this.#emit({ type: 'stepDone', n, image, ms: Date.now() - started });
      return this.#imageState(image);
    }
    const state = await span('build.step', make);
    const now = new Date().toISOString();
    const id = state.id ?? (await materialise(images, state));
    await cache.put({ key: k, image: id, description, created: now, lastUsed: now, usageCount: 0 });
    this.#emit({ type: 'stepDone', n, image: id, ms: Date.now() - started });
    return { id, config: state.config };
  }

  async #runStage(stage: Stage): Promise<ImageState> {
    const esc = this.#df.directives.escape;
    const from = stage.from;
    const n0 = this.#startStep(stage, from.original);
    const started = Date.now();
    const baseRef = expandWord(from.image, this.#global.lookup, esc);
    const baseS = baseStage(this.#df, stage, this.#global.lookup);
    let state: ImageState;
    const namedBase = baseS ? undefined : this.#named(baseRef);
    if (baseS) state = await this.#stage(baseS);
    else if (namedBase && 'dir' in namedBase) {
      // A directory as a base is a root filesystem: scratch plus a copy of it at /, as BuildKit's.
      const copy = {
        ...from,
        kind: 'COPY' as const,
        sources: ['.'],
        dest: '/',
        flags: [{ name: 'from', value: baseRef }],
        heredocs: [],
      };
      state = await this.#copy(stage, n0, copy, scratchState(this.#platform), this.#global.lookup);
    } else if (baseRef.toLowerCase() === 'scratch') state = scratchState(this.#platform);
    else {
      if (baseRef === '') bad(from, 'FROM needs an image name (the ARG it uses may be empty)');
      state = await this.#imageState(await this.#resolveImage(this.#imageRef(baseRef), from));
    }
    if (state.id && !(namedBase && 'dir' in namedBase))
      this.#emit({ type: 'stepDone', n: n0, image: state.id, ms: Date.now() - started });
    const args = new StageArgs(this.#global, this.#req.buildArgs);
    let cmdSet = false;
    // ONBUILD triggers of the base image run first and are not inherited.
    const triggers = baseS ? [] : (state.config.config?.OnBuild ?? []);
    const instructions: Instruction[] = [
      ...triggers.map((t) => {
        try {
          return parseInstruction(t, esc);
        } catch (err) {
          return bad(from, `the base image's ONBUILD trigger "${t}" is invalid: ${(err as Error).message}`);
        }
      }),
      ...stage.instructions,
    ];
    if (triggers.length > 0) {
      state = { ...state, config: { ...state.config, config: { ...state.config.config, OnBuild: null } } };
      this.#total += triggers.length;
    }
    for (const instr of instructions) {
      if (this.signal.aborted) throw this.signal.reason ?? new Error('build cancelled');
      const n = this.#startStep(stage, instr.original);
      if (instr.kind === 'ARG') {
        // ARG changes no config: it scopes values for the steps after it, and is a history
        // entry of its own (`ARG X=1`), as in Docker's legacy builder.
        const shown: string[] = [];
        for (const a of instr.args) {
          const lookup = envLookup(state.config, args);
          const def = a.default === undefined ? undefined : expandWord(a.default, lookup, esc);
          args.declare(a.name, def);
          shown.push(def === undefined ? a.name : `${a.name}=${def}`);
        }
        state = await this.#argStep(
          stage,
          n,
          state,
          nopText(state.config.config?.Shell, `ARG ${shown.join(' ')}`),
        );
        continue;
      }
      state = await this.#step(stage, n, instr, state, args, cmdSet);
      if (instr.kind === 'CMD') cmdSet = true;
    }
    if (!state.id) state = { id: await materialise(this.#deps.images, state), config: state.config };
    return state;
  }

  /** An ARG's history-only step on `state`. */
  #argStep(stage: Stage, n: number, state: ImageState, createdBy: string): Promise<ImageState> {
    const parent = state.id ?? `scratch:${this.#platform.os}/${this.#platform.architecture}`;
    const config = state.config.config ?? {};
    return this.#cached(
      stage,
      n,
      key(['meta', parent, createdBy, config, '']),
      createdBy,
      () => commitStep(this.#deps.images, state, { config, createdBy }),
      { parent: state.id, createdBy },
    );
  }

  async #step(
    stage: Stage,
    n: number,
    instr: Instruction,
    state: ImageState,
    args: StageArgs,
    cmdSet: boolean,
  ): Promise<ImageState> {
    const esc = this.#df.directives.escape;
    const lookup = envLookup(state.config, args);
    const cfg = state.config.config ?? {};
    const parent = state.id ?? `scratch:${this.#platform.os}/${this.#platform.architecture}`;
    const { images } = this.#deps;
    const meta = applyMetadata(instr, cfg, { lookup, escape: esc, cmdSetInStage: cmdSet });
    if (meta) {
      const k = key(['meta', parent, meta.createdBy, meta.config, meta.author ?? '']);
      return this.#cached(
        stage,
        n,
        k,
        meta.createdBy,
        () =>
          commitStep(images, state, {
            config: meta.config,
            createdBy: meta.createdBy,
            ...(meta.author ? { author: meta.author } : {}),
          }),
        { parent: state.id, createdBy: meta.createdBy },
      );
    }
    switch (instr.kind) {
      case 'WORKDIR': {
        const dir = workdirPath(instr, cfg, { lookup, escape: esc, cmdSetInStage: cmdSet });
        const config = { ...cfg, WorkingDir: dir };
        const k = key(['workdir', parent, dir, cfg.User ?? '']);
        const createdBy = nopInlineText(cfg.Shell, `WORKDIR ${dir}`);
        return this.#cached(
          stage,
          n,
          k,
          `WORKDIR ${dir}`,
          async () => {
            const scratch = await mountScratch(images, this.#deps.layersRoot, this.#tmpDir, state.config);
            try {
              await mkdirInRoot(scratch.root, dir);
              return await commitStep(images, state, {
                config,
                createdBy,
                ...(await scratch.detachDiff()),
                signal: this.signal,
              });
            } finally {
              await scratch.release();
            }
          },
          { parent: state.id, createdBy },
        );
      }
      case 'RUN':
        return this.#run(stage, n, instr, state, args, lookup);
      case 'COPY':
      case 'ADD':
        return this.#copy(stage, n, instr, state, lookup);
      case 'FROM':
        return bad(instr, 'FROM inside a stage');
      default:
        return bad(instr, `${instr.kind} is not supported here`);
    }
  }

  async #run(
    stage: Stage,
    n: number,
    instr: Extract<Instruction, { kind: 'RUN' }>,
    state: ImageState,
    args: StageArgs,
    lookup: Lookup,
  ): Promise<ImageState> {
    const esc = this.#df.directives.escape;
    const cfg = state.config.config ?? {};
    const { images } = this.#deps;
    const argv = runArgv(instr, cfg.Shell);
    const network = flag(instr, 'network') ?? 'default';
    if (!['default', 'none', 'host'].includes(network))
      bad(instr, `RUN --network=${network}: use default, none or host`);
    const effectiveNetwork = network === 'default' ? this.#req.networkMode || 'default' : network;
    const mounts = parseRunMounts(instr, lookup, esc);
    const argEnv = [...args.declared(), ...args.proxies()].filter(
      (e) => !(cfg.Env ?? []).some((x) => x.split('=')[0] === e.split('=')[0]),
    );
    const k = key([
      'run',
      state.id ?? 'scratch',
      argv,
      args.declared(),
      effectiveNetwork,
      mounts.map((m) => [m.type, m.target, m.options]),
      await this.#bindSources(instr, mounts),
      this.#req.extraHosts,
    ]);
    const createdBy = runText(argEnv, argv);
    return this.#cached(
      stage,
      n,
      k,
      createdBy,
      async () => {
        const image = await materialise(images, state);
        const plan = await planRunMounts(instr, mounts, {
          contextDir: this.#req.contextDir,
          rootOf: (ref) => this.#fromRoot(instr, expandWord(ref, lookup, esc)),
          cacheRoot: this.#deps.cacheMountsRoot,
          secrets: this.#req.secrets,
          tmpDir: this.#tmpDir,
        });
        try {
          const ran = await span('build.run-container', () =>
            runInContainer(this.#deps, {
              image,
              argv,
              config: cfg,
              extraEnv: [...argEnv, ...plan.env],
              networkMode: effectiveNetwork,
              extraHosts: this.#req.extraHosts,
              ...(this.#req.shmSize ? { shmSize: this.#req.shmSize } : {}),
              ...(this.#req.ulimits ? { ulimits: this.#req.ulimits } : {}),
              mounts: plan,
              signal: this.signal,
              onContainer: (id) => this.#emit({ type: 'container', n, id }),
              onOutput: (data, stream) => this.#emit({ type: 'output', n, data, stream }),
            }),
          );
          try {
            return await commitStep(
              images,
              { id: image, config: state.config },
              {
                config: cfg,
                createdBy,
                ...(await ran.layer()),
                signal: this.signal,
              },
            );
          } finally {
            await span('build.run-remove', () => ran.remove());
          }
        } finally {
          await plan.cleanup();
        }
      },
      { parent: state.id, createdBy },
    );
  }

  async #copy(
    stage: Stage,
    n: number,
    instr: Extract<Instruction, { kind: 'COPY' | 'ADD' }>,
    state: ImageState,
    lookup: Lookup,
  ): Promise<ImageState> {
    const esc = this.#df.directives.escape;
    const cfg = state.config.config ?? {};
    const { images } = this.#deps;
    const ex = (w: string) => expandWord(w, lookup, esc);
    const isAdd = instr.kind === 'ADD';
    const fromRef = flag(instr, 'from');
    if (isAdd && fromRef !== undefined) bad(instr, 'ADD does not take --from: use COPY --from');
    const namedDir = fromRef !== undefined ? this.#named(ex(fromRef)) : undefined;
    const fromDir = namedDir && 'dir' in namedDir ? namedDir.dir : undefined;
    const from =
      fromRef !== undefined && fromDir === undefined ? await this.#fromImage(instr, ex(fromRef)) : undefined;
    // Another stage's or image's files are mounted only when they must be read: an image never
    // changes, so what its sources match and their checksum are remembered across builds.
    let mounted: Promise<string> | undefined;
    const srcRootOf = (): Promise<string> => {
      if (!from) return Promise.resolve(fromDir ?? this.#req.contextDir);
      mounted ??= this.#root(from).then((r) => r.root);
      return mounted;
    };
    const destRaw = ex(instr.dest);
    const dest =
      path.posix.resolve(cfg.WorkingDir || '/', destRaw) +
      (destRaw.endsWith('/') && destRaw !== '/' ? '/' : '');
    const { inline, urls, patterns } = classifySources(instr, lookup, ex);
    let items: CopyItem[] = [];
    const wildcard = patterns.some(hasMeta);
    const exclude = instr.flags.filter((f) => f.name === 'exclude').map((f) => ex(f.value ?? ''));
    const memoKey = from ? JSON.stringify([from.id, patterns, exclude]) : undefined;
    const memo = memoKey ? this.#deps.imageSourceSums?.get(memoKey) : undefined;
    let sourceSum = memo?.sum ?? '';
    let singleKind = memo?.kind;
    if (memo) items = [...memo.items];
    else {
      const srcRoot = patterns.length > 0 ? await srcRootOf() : '';
      for (const src of patterns) {
        const found = await expandSourcePattern(srcRoot, src);
        if (found.length === 0) {
          const where = from
            ? `in ${fromRef}`
            : fromDir
              ? `in the named context ${fromRef}`
              : 'in the build context';
          bad(
            instr,
            `${instr.kind} failed: file not found ${where}: "${src}"${src.startsWith('..') ? ' (paths are relative to the context root and cannot leave it)' : ''}${missingSourceNote(srcRoot, src, from ? `the filesystem of ${fromRef}` : undefined)}${from ? '' : '; check the path and your .dockerignore'}`,
          );
        }
        for (const rel of found) items.push({ rel, pattern: src });
      }
      if (items.length > 0) sourceSum = await this.#checksum(srcRoot, items, exclude);
      // History says `dir:` for one directory source, as Docker's does.
      if (items.length === 1) {
        const st = await fsp.stat(path.join(srcRoot, items[0]!.rel)).catch(() => undefined);
        singleKind = st?.isDirectory() ? 'dir' : 'file';
      }
      if (memoKey)
        rememberSum(this.#deps.imageSourceSums, memoKey, {
          items,
          sum: sourceSum,
          ...(singleKind ? { kind: singleKind } : {}),
        });
    }
    const chown = flag(instr, 'chown');
    const chmodRaw = flag(instr, 'chmod');
    const checksumFlag = flag(instr, 'checksum');
    const parents = instr.flags.some((f) => f.name === 'parents' && f.value !== 'false');
    const unpackFlag = flag(instr, 'unpack');
    const plan: Omit<CopyPlan, 'srcRoot' | 'items'> = {
      inline,
      dest,
      destIsDir: dest.endsWith('/') || instr.sources.length > 1 || wildcard,
      ...(chown ? { chown: ex(chown) } : {}),
      ...(chmodRaw ? { chmod: parseChmod(ex(chmodRaw)) } : {}),
      parents,
      exclude,
      unpack: isAdd && unpackFlag !== 'false',
      ...(this.#deps.extractArchive ? { extractArchive: this.#deps.extractArchive } : {}),
    };
    // URL sources are downloaded first: their bytes are part of the cache key.
    if (urls.length === 0 && checksumFlag) bad(instr, 'ADD --checksum is only for URL sources');
    const { dir: dlDir, downloads } =
      urls.length > 0
        ? await downloadSources(instr, urls, checksumFlag, {
            fetchUrl: this.#deps.fetchUrl,
            tmpDir: this.#tmpDir,
            signal: this.signal,
          })
        : { dir: undefined, downloads: [] };
    try {
      const sums = [
        sourceSum,
        downloads.length > 0 && dlDir ? await this.#checksum(dlDir, downloads, []) : '',
      ];
      const shown = `${instr.kind} ${[...instr.sources].join(' ')} ${destRaw}`;
      const k = key([
        'copy',
        state.id ?? 'scratch',
        instr.kind,
        from?.id ?? (fromDir ? `named:${fromRef}` : 'context'),
        items.map((i) => i.rel),
        sums,
        inline,
        { ...plan, extractArchive: undefined },
        cfg.User ?? '',
      ]);
      const sourceCount = items.length + inline.length + downloads.length;
      const sourceKind = sourceCount > 1 ? 'multi' : (singleKind ?? 'file');
      const allSums = sums.filter(Boolean).join(',');
      const checksum =
        sums.filter(Boolean).length > 1 || inline.length > 0
          ? createHash('sha256')
              .update(JSON.stringify([allSums, inline]))
              .digest('hex')
          : allSums;
      const createdBy = nopInlineText(
        cfg.Shell,
        copyText({ kind: instr.kind, sourceKind, checksum, dest: destRaw, chown: chown && ex(chown) }),
      );
      return await this.#cached(
        stage,
        n,
        k,
        shown,
        async () => {
          const scratch = await mountScratch(images, this.#deps.layersRoot, this.#tmpDir, state.config);
          try {
            if (items.length > 0 || inline.length > 0)
              await span('build.copy', async () =>
                copyInto(scratch.root, { ...plan, srcRoot: await srcRootOf(), items }),
              );
            if (downloads.length > 0 && dlDir) {
              await copyInto(scratch.root, {
                ...plan,
                inline: [],
                srcRoot: dlDir,
                items: downloads,
                destIsDir: plan.destIsDir || urls.length > 1,
                unpack: false,
              });
            }
            return await commitStep(images, state, {
              config: cfg,
              createdBy,
              ...(await scratch.detachDiff()),
              signal: this.signal,
            });
          } finally {
            await scratch.release();
          }
        },
        { parent: state.id, createdBy },
      );
    } finally {
      if (dlDir) await fsp.rm(dlDir, { recursive: true, force: true });
    }
  }
}
