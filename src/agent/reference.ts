/**
 * Image references as docker reads them: `[host[:port]/]repository[:tag][@sha256:...]`.
 *
 * The first path component is a registry host only when it could not be part of a repository
 * name (it has a `.` or `:`, is `localhost`, or has upper case); otherwise the image lives on
 * Docker Hub, where one-component names belong to `library/`. This is what makes `alpine`,
 * `alpine:3.19`, `docker.io/library/alpine` and `index.docker.io/alpine:latest` the same image.
 */
import { isIP } from 'node:net';
import { isValidName, isValidTag } from '../registry/names.js';

/** Docker Hub's name in references. */
export const DEFAULT_REGISTRY = 'docker.io';

/** A parsed reference. With a digest, the digest decides what is pulled; a tag is kept for show. */
export interface ImageReference {
  /** `host[:port]`, lower case; IPv6 addresses in brackets. */
  registry: string;
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const SHA256 = /^sha256:[0-9a-f]{64}$/;
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Parses a reference; throws an Error saying what is wrong with it. */
export function parseReference(text: string): ImageReference {
  if (text === '' || text.trim() !== text) throw new Error(`invalid reference "${text}"`);
  let rest = text;
  let digest: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!SHA256.test(digest)) {
      throw new Error(
        `invalid reference "${text}": digest must be sha256: followed by 64 lowercase hex digits`,
      );
    }
  }

  let registry = DEFAULT_REGISTRY;
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  if (slash !== -1 && isHostComponent(first)) {
    if (!validHost(first)) throw new Error(`invalid reference "${text}": bad registry host "${first}"`);
    registry = canonicalHost(first);
    rest = rest.slice(slash + 1);
  }

  let tag: string | undefined;
  // A tag's colon comes after the last slash; an earlier one would belong to a host.
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) throw new Error(`invalid reference "${text}": bad tag "${tag}"`);
  }

  let repository = rest;
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  if (repository !== repository.toLowerCase()) {
    throw new Error(`invalid reference "${text}": repository name must be lowercase`);
  }
  if (!isValidName(repository)) throw new Error(`invalid reference "${text}": bad repository name "${rest}"`);
  if (digest === undefined && tag === undefined) tag = 'latest';
  return { registry, repository, tag, digest };
}

/** The normalised form: `host/repository@digest` when there is a digest, else `host/repository:tag`. */
export function formatReference(reference: ImageReference): string {
  const name = `${reference.registry}/${reference.repository}`;
  if (reference.digest) return `${name}@${reference.digest}`;
  return `${name}:${reference.tag ?? 'latest'}`;
}

/** Parses and normalises in one step (`alpine` -> `docker.io/library/alpine:latest`). */
export function normaliseReference(text: string): string {
  return formatReference(parseReference(text));
}

/**
 * Whether a registry is spoken to over plain HTTP without being asked: as docker does, loopback
 * registries (`localhost`, 127.0.0.0/8, `[::1]`) are, because TLS there protects nothing.
 */
export function isPlainHttpByDefault(registry: string): boolean {
  const host = hostname(registry);
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** The base URL of a registry's API; Docker Hub answers on registry-1.docker.io, not docker.io. */
export function registryBaseUrl(registry: string, plainHttp: boolean): string {
  const host = registry === DEFAULT_REGISTRY ? 'registry-1.docker.io' : registry;
  return `${plainHttp ? 'http' : 'https'}://${host}`;
}

/** A registry host as keys use it (credentials, records): lower case, Docker Hub's aliases folded. */
export function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  return HUB_ALIASES.has(lower) ? DEFAULT_REGISTRY : lower;
}

function isHostComponent(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component !== component.toLowerCase()
  );
}

function hostname(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  return registry.split(':', 1)[0] as string;
}

function validHost(host: string): boolean {
  if (!HOST.test(host)) return false;
  if (host.startsWith('[') && isIP(hostname(host)) !== 6) return false;
  const match = /:([0-9]+)$/.exec(host.startsWith('[') ? host.slice(host.indexOf(']')) : host);
  if (!match) return true;
  const port = Number(match[1]);
  return port >= 1 && port <= 65535;
}
