/**
 * How a server is told apart in a chart with several: a letter (its number in the scenario, 1 to 9, then a to z) that
 * reads without colour, and a colour of its own. Colours that read on dark and light themes alike; no white, no
 * black, no yellow (lost on a light background).
 */
const COLOURS = ['light-red', 'light-blue', 'green', 'magenta', 'cyan', 'red', 'blue', 'light-magenta', 'light-green'];

export const serverMark = (run: number): string => (run < 9 ? String(run + 1) : String.fromCharCode(97 + ((run - 9) % 26)));
export const serverColour = (run: number): string => COLOURS[run % COLOURS.length];
