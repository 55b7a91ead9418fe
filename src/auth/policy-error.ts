/** A policy file that cannot be used; the message names the file, entry and key. */
export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}
