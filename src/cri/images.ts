// The CRI ImageService over Berth's one image store (docs/cri.md: shared with the Docker API,
// so an image the kubelet pulls is listed by `docker images`). Names are answered fully
// qualified (`docker.io/library/busybox:1`), as containerd's CRI answers them.
import type { Credentials } from '../registry/index.ts';
import type { ImageView } from '../images/index.ts';
import type { Digest } from '../oci/digest.ts';
import { formatReference, parseReference, withDefaultTag } from '../oci/reference.ts';
import { invalidField } from './errors.ts';
import type { Handlers, Msg } from './server.ts';

/** What the ImageService needs from the daemon (wired in daemon/cri-wiring.ts). */
export interface CriImageBackend {
  list(): Promise<ImageView[]>;
  /** The image an ID, a unique ID prefix or a name (default tag latest) names, if any. */
  find(refOrId: string): Promise<ImageView | undefined>;
  /** Pulls one reference (with a tag or a digest); resolves with the image ID. */
  pull(ref: string, auth: Credentials | undefined, signal: AbortSignal): Promise<Digest>;
  /** Removes the image and every name it has (CRI's RemoveImage is not Docker's untag). */
  remove(id: Digest): Promise<void>;
  /** Where the image store lives and what it uses there. */
  fsUsage(): Promise<{ mountpoint: string; usedBytes: number; inodesUsed: number }>;
}

function qualified(familiar: string): string {
  return formatReference(parseReference(familiar));
}

/** The image's configured user: a numeric uid, or a name (containerd's rule: text before ':'). */
function userOf(view: ImageView): { uid?: { value: number }; username: string } {
  const user = (view.config.config?.User ?? '').split(':')[0] ?? '';
  if (user === '') return { username: '' };
  return /^\d+$/.test(user) ? { uid: { value: Number(user) }, username: '' } : { username: user };
}

export function criImage(view: ImageView): Msg {
  return {
    id: view.id,
    repo_tags: view.repoTags.map(qualified),
    repo_digests: view.repoDigests.map(qualified),
    size: view.size,
    ...userOf(view),
    spec: { image: view.id, annotations: {} },
    pinned: false,
  };
}

/** AuthConfig → registry credentials; `auth` is base64 `user:password` as in config.json. */
export function credentialsOf(auth: Msg | undefined): Credentials | undefined {
  if (!auth) return undefined;
  let username = String(auth.username ?? '');
  let password = String(auth.password ?? '');
  if (auth.auth) {
    const text = Buffer.from(String(auth.auth), 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) throw invalidField('auth.auth', 'must be base64 of "user:password"');
    username = text.slice(0, colon);
    password = text.slice(colon + 1);
  }
  const creds: Credentials = {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(auth.identity_token ? { identitytoken: String(auth.identity_token) } : {}),
    ...(auth.registry_token ? { registrytoken: String(auth.registry_token) } : {}),
  };
  return Object.keys(creds).length > 0 ? creds : undefined;
}

function specText(req: Msg, field: string): string {
  const text = String(req?.image?.image ?? '');
  if (text === '') throw invalidField(`${field}.image`, 'an image reference or ID is required');
  return text;
}

export function imageHandlers(backend: CriImageBackend): Handlers {
  return {
    ListImages: async (req) => {
      const wanted = String(req.filter?.image?.image ?? '');
      if (wanted !== '') {
        const one = await backend.find(wanted);
        return { images: one ? [criImage(one)] : [] };
      }
      return { images: (await backend.list()).map(criImage) };
    },
    // An absent image is an empty answer, not an error (the kubelet then pulls it).
    ImageStatus: async (req) => {
      const view = await backend.find(specText(req, 'image'));
      if (!view) return {};
      if (!req.verbose) return { image: criImage(view), info: {} };
      // As containerd's verbose answer: one "info" key holding JSON.
      const info = JSON.stringify({ chainID: view.chain.at(-1) ?? '', imageSpec: view.config });
      return { image: criImage(view), info: { info } };
    },
    PullImage: async (req, ctx) => {
      const text = specText(req, 'image');
      let ref: string;
      try {
        // No tag means latest, as for the kubelet (never "every tag" as docker pull -a).
        ref = formatReference(withDefaultTag(parseReference(text)));
      } catch (err) {
        throw invalidField('image.image', `"${text}" is not an image reference: ${(err as Error).message}`);
      }
      return { image_ref: await backend.pull(ref, credentialsOf(req.auth), ctx.signal) };
    },
    // Removing what is not there succeeds (CRI: RemoveImage is idempotent).
    RemoveImage: async (req) => {
      const view = await backend.find(specText(req, 'image'));
      if (view) await backend.remove(view.id);
      return {};
    },
    ImageFsInfo: async () => {
      const u = await backend.fsUsage();
      const timestamp = Date.now() * 1_000_000;
      return {
        image_filesystems: [
          {
            timestamp,
            fs_id: { mountpoint: u.mountpoint },
            used_bytes: { value: u.usedBytes },
            inodes_used: { value: u.inodesUsed },
          },
        ],
        container_filesystems: [],
      };
    },
  };
}
