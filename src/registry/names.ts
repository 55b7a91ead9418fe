/**
 * Repository names and tags, validated with the grammar of the OCI distribution spec.
 * Validation happens on the raw URL path, before any decoding, so `%2F`, `..` and absolute
 * paths can never reach storage.
 */
import { RegistryError } from './errors.js';

const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_GRAMMAR = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_GRAMMAR = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const MAX_NAME_LENGTH = 255;

/** A validated repository name. */
export type RepositoryName = string & { readonly __repositoryName: unique symbol };

/** A validated tag. */
export type Tag = string & { readonly __tag: unique symbol };

/** True when `value` matches the repository name grammar and length limit. */
export function isValidName(value: string): boolean {
  return value.length <= MAX_NAME_LENGTH && NAME_GRAMMAR.test(value);
}

/** Validates a repository name; throws NAME_INVALID. */
export function parseName(value: string): RepositoryName {
  if (!isValidName(value)) {
    throw new RegistryError('NAME_INVALID', 'invalid repository name', {
      detail: {
        name: value.slice(0, 300),
        rule: `lowercase components matching ${COMPONENT}, separated by "/", at most ${MAX_NAME_LENGTH} characters`,
      },
    });
  }
  return value as RepositoryName;
}

/** True when `value` matches the tag grammar. */
export function isValidTag(value: string): boolean {
  return TAG_GRAMMAR.test(value);
}

/** Validates a tag; throws MANIFEST_INVALID (the spec's code for a bad manifest reference). */
export function parseTag(value: string): Tag {
  if (!isValidTag(value)) {
    throw new RegistryError('MANIFEST_INVALID', 'invalid tag', {
      detail: { tag: value.slice(0, 200), rule: TAG_GRAMMAR.source },
    });
  }
  return value as Tag;
}
