/**
 * What stands in for a value a recording must not carry (a secret in an env, a query string, a URL's credentials):
 * one spelling, so that a reader can tell a value left out from a value that was empty.
 */
export const REDACTED = '<redacted>';

/** A path or URL with its query string, if any, replaced: `/search?key=abc` -> `/search?<redacted>`. */
export function withoutQuery(pathOrUrl: string): string {
  const q = pathOrUrl.indexOf('?');
  return q < 0 ? pathOrUrl : `${pathOrUrl.slice(0, q)}?${REDACTED}`;
}

/** A URL as a recording may keep it: no user or password, no query string. Text that is no URL is kept as given. */
export function recordableUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return withoutQuery(url);
  }
  u.username = '';
  u.password = '';
  return withoutQuery(u.href);
}
