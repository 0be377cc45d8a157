/**
 * blessed tag markup. Text from recordings (context names, error messages) is escaped so braces print as braces.
 *
 * Colour is the one thing here that can be turned off: NO_COLOR (https://no-color.org), set and not empty, means no
 * colour at all, and every coloured thing the dashboard draws also reads without it (parts and servers by their
 * letters, alerts in bold). Read once, when the dashboard is loaded, as the environment is for a process's life;
 * `colour.on` is mutable for tests that draw both ways in one process.
 */
export const colour = { on: colourWanted(process.env) };

export function colourWanted(env: NodeJS.ProcessEnv): boolean {
  return env.NO_COLOR === undefined || env.NO_COLOR === '';
}

export const esc = (text: string) => text.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
export const bold = (text: string) => `{bold}${text}{/bold}`;
/** Red reads on dark and on light backgrounds; yellow and white, the usual warning colours, do not. Bold without colour. */
export const alert = (text: string) => (colour.on ? `{red-fg}${text}{/red-fg}` : bold(text));
/** Text in a foreground colour (a blessed colour name), or plain without colour. */
export const fg = (name: string, text: string) => (colour.on ? `{${name}-fg}${text}{/${name}-fg}` : text);
/** The panels' border colour: the terminal's own without colour. */
export const borderColour = () => (colour.on ? 'blue' : 'default');
