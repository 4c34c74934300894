// The Engine API calls compose makes, typed, over the client (compose talks to the engine only
// through the API, as docker-compose does, so it works against any Docker-compatible engine).
import { Readable } from 'node:stream';
import { type EngineClient, EngineError, readAll } from '../client/index.ts';

export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  hash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  environmentFile: 'com.docker.compose.project.environment_file',
  version: 'com.docker.compose.version',
  dependsOn: 'com.docker.compose.depends_on',
  image: 'com.docker.compose.image',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
} as const;

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  State: string;
  Status: string;
  Labels: Record<string, string>;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Image: string;
  State: {
    Status: string;
    Running: boolean;
    Paused: boolean;
    ExitCode: number;
    Health?: { Status: string };
  };
  Config: { Labels: Record<string, string> | null; Healthcheck?: { Test?: string[] } | null };
}

export interface NetworkSummary {
  Id: string;
  Name: string;
  Labels: Record<string, string> | null;
}

export interface VolumeSummary {
  Name: string;
  Labels: Record<string, string> | null;
}

const filters = (f: Record<string, string[]>) => JSON.stringify(f);

export class ComposeApi {
  readonly client: EngineClient;
  constructor(client: EngineClient) {
    this.client = client;
  }

  /** Containers of the project (all states), optionally of some services or one-off containers only. */
  async containers(
    project: string,
    opts: { oneoff?: boolean; all?: boolean; labels?: string[] } = {},
  ): Promise<ContainerSummary[]> {
    const label = [`${LABEL.project}=${project}`, ...(opts.labels ?? [])];
    if (opts.oneoff !== undefined) label.push(`${LABEL.oneoff}=${opts.oneoff ? 'True' : 'False'}`);
    return this.client.json<ContainerSummary[]>('GET', '/containers/json', {
      query: { all: opts.all ?? true, filters: filters({ label }) },
    });
  }

  inspect(id: string): Promise<ContainerInspect> {
    return this.client.json<ContainerInspect>('GET', `/containers/${encodeURIComponent(id)}/json`);
  }

  async create(name: string, body: unknown): Promise<string> {
    const r = await this.client.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body });
    return r.Id;
  }

  async start(id: string): Promise<void> {
    await this.#ignore304('POST', `/containers/${id}/start`);
  }

  async stop(id: string, timeout?: number): Promise<void> {
    await this.#ignore304('POST', `/containers/${id}/stop`, timeout !== undefined ? { t: timeout } : {});
  }

  async kill(id: string, signal?: string): Promise<void> {
    await drain(this.client.raw('POST', `/containers/${id}/kill`, { query: { signal } }));
  }

  async restart(id: string, timeout?: number): Promise<void> {
    await drain(this.client.raw('POST', `/containers/${id}/restart`, { query: { t: timeout } }));
  }

  async pause(id: string): Promise<void> {
    await drain(this.client.raw('POST', `/containers/${id}/pause`));
  }

  async unpause(id: string): Promise<void> {
    await drain(this.client.raw('POST', `/containers/${id}/unpause`));
  }

  async remove(id: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    try {
      await drain(
        this.client.raw('DELETE', `/containers/${id}`, { query: { force: opts.force, v: opts.volumes } }),
      );
    } catch (err) {
      if (!(err instanceof EngineError && err.status === 404)) throw err;
    }
  }

  /** Extracts a tar at `dir` in the container (PUT /archive); `copyUIDGID` keeps the tar's owners. */
  async putArchive(id: string, dir: string, tar: Buffer, copyUIDGID: boolean): Promise<void> {
    await drain(
      this.client.raw('PUT', `/containers/${id}/archive`, {
        query: { path: dir, copyUIDGID },
        stream: Readable.from([tar]),
      }),
    );
  }

  async rename(id: string, name: string): Promise<void> {
    await drain(this.client.raw('POST', `/containers/${id}/rename`, { query: { name } }));
  }

  /** Waits for the container to exit; resolves with its status code. */
  async wait(id: string, signal?: AbortSignal): Promise<number> {
    const r = await this.client.json<{ StatusCode: number }>('POST', `/containers/${id}/wait`, {
      query: { condition: 'not-running' },
      ...(signal ? { signal } : {}),
    });
    return r.StatusCode;
  }

  logs(
    id: string,
    query: Record<string, string | number | boolean | undefined>,
    signal?: AbortSignal,
  ): Promise<Readable> {
    return this.client.raw('GET', `/containers/${id}/logs`, {
      query: { stdout: true, stderr: true, ...query },
      ...(signal ? { signal } : {}),
    });
  }

  networks(project: string): Promise<NetworkSummary[]> {
    return this.client.json<NetworkSummary[]>('GET', '/networks', {
      query: { filters: filters({ label: [`${LABEL.project}=${project}`] }) },
    });
  }

  async networkByName(name: string): Promise<NetworkSummary | undefined> {
    const all = await this.client.json<NetworkSummary[]>('GET', '/networks', {
      query: { filters: filters({ name: [name] }) },
    });
    return all.find((n) => n.Name === name);
  }

  async createNetwork(body: unknown): Promise<string> {
    return (await this.client.json<{ Id: string }>('POST', '/networks/create', { body })).Id;
  }

  async connect(network: string, container: string, endpoint: unknown): Promise<void> {
    await drain(
      this.client.raw('POST', `/networks/${encodeURIComponent(network)}/connect`, {
        body: { Container: container, EndpointConfig: endpoint },
      }),
    );
  }

  async removeNetwork(id: string): Promise<void> {
    try {
      await drain(this.client.raw('DELETE', `/networks/${encodeURIComponent(id)}`));
    } catch (err) {
      if (!(err instanceof EngineError && err.status === 404)) throw err;
    }
  }

  async volumes(project: string): Promise<VolumeSummary[]> {
    const r = await this.client.json<{ Volumes: VolumeSummary[] | null }>('GET', '/volumes', {
      query: { filters: filters({ label: [`${LABEL.project}=${project}`] }) },
    });
    return r.Volumes ?? [];
  }

  async volume(name: string): Promise<VolumeSummary | undefined> {
    try {
      return await this.client.json<VolumeSummary>('GET', `/volumes/${encodeURIComponent(name)}`);
    } catch (err) {
      if (err instanceof EngineError && err.status === 404) return undefined;
      throw err;
    }
  }

  async createVolume(body: unknown): Promise<void> {
    await this.client.json('POST', '/volumes/create', { body });
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await drain(this.client.raw('DELETE', `/volumes/${encodeURIComponent(name)}`));
    } catch (err) {
      if (!(err instanceof EngineError && err.status === 404)) throw err;
    }
  }

  /** The image's ID, or undefined when the engine has no such image. */
  async imageId(ref: string): Promise<string | undefined> {
    try {
      return (await this.client.json<{ Id: string }>('GET', `/images/${encodeURIComponent(ref)}/json`)).Id;
    } catch (err) {
      if (err instanceof EngineError && err.status === 404) return undefined;
      throw err;
    }
  }

  async removeImage(ref: string): Promise<void> {
    try {
      await drain(this.client.raw('DELETE', `/images/${encodeURIComponent(ref)}`));
    } catch (err) {
      if (!(err instanceof EngineError && (err.status === 404 || err.status === 409))) throw err;
    }
  }

  /** Pulls an image; the JSON-lines progress is consumed and an error line becomes an Error. */
  async pull(ref: string): Promise<void> {
    const at = ref.lastIndexOf('@');
    const colon = ref.lastIndexOf(':');
    const slash = ref.lastIndexOf('/');
    const [fromImage, tag] =
      at >= 0
        ? [ref.slice(0, at), ref.slice(at + 1)]
        : colon > slash
          ? [ref.slice(0, colon), ref.slice(colon + 1)]
          : [ref, 'latest'];
    for await (const m of this.client.jsonLines<{ error?: string }>('POST', '/images/create', {
      query: { fromImage, tag },
    })) {
      if (m.error) throw new Error(m.error);
    }
  }

  async #ignore304(method: string, p: string, query: Record<string, string | number> = {}): Promise<void> {
    const res = await this.client.raw(method, p, { query });
    await readAll(res);
  }
}

async function drain(p: Promise<AsyncIterable<unknown>>): Promise<void> {
  await readAll(await p);
}
