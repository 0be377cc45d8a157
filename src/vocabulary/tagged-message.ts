/**
 * Messages across a process or thread boundary are unions tagged by `type`, typed once beside the sender and
 * imported by the receiver. The receiver takes a message for its type by its tag, through these guards and no cast:
 * both ends are built from this same source, so a message whose tag is one the receiver knows is trusted to be that
 * message. A guard is cheap (one property test): they run per interval or per thread start, never per request.
 */

/** An object with a string `type`: a message of some protocol; which one is for the receiver to say. */
export function hasTag(m: unknown): m is { type: string } {
  return typeof m === 'object' && m !== null && 'type' in m && typeof m.type === 'string';
}

/**
 * A message of the union `M`: its tag is one of `tags`, written as a record so that a tag added to `M` and not to
 * the receiver's list fails to compile. Keep `tags` a module constant: no allocation per message.
 */
export function isTagged<M extends { type: string }>(m: unknown, tags: { readonly [T in M['type']]: true }): m is M {
  return hasTag(m) && Object.hasOwn(tags, m.type);
}
