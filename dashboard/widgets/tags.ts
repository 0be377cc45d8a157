/** blessed tag markup. Text from recordings (context names, error messages) is escaped so braces print as braces. */
export const esc = (text: string) => text.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
export const bold = (text: string) => `{bold}${text}{/bold}`;
/** Red reads on dark and on light backgrounds; yellow and white, the usual warning colours, do not. */
export const alert = (text: string) => `{red-fg}${text}{/red-fg}`;
