/** The HTML report's stylesheet: one column of text at reading width, charts two abreast at 1280 px, one in print. */
export const PAGE_STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 Helvetica, Arial, sans-serif; color: #222; background: #fff; margin: 0 auto; padding: 16px 20px 40px; max-width: 1240px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
p.meta { color: #555; margin: 2px 0; }
.damage { background: #fff3cd; border: 1px solid #e0c060; padding: 8px 12px; margin: 12px 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 7px; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; font-weight: 600; white-space: normal; vertical-align: bottom; }
th.text, td.text { text-align: left; }
.legend { color: #555; font-size: 12px; max-width: 1000px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px; }
.server .charts { grid-template-columns: 1fr; }
figure.chart { margin: 0; break-inside: avoid; page-break-inside: avoid; }
/* Each chart scales to its column, keeping its aspect: the SVGs differ by a few per cent in their estimated width. */
figure.chart svg { display: block; width: 100%; height: auto; }
.server { display: grid; grid-template-columns: minmax(300px, 1fr) 720px; gap: 16px; align-items: start; break-inside: avoid; }
.server .words p { margin: 0 0 8px; }
.server .words ul { margin: 0 0 8px; padding-left: 18px; }
.failed { color: #a00; }
@media (max-width: 1100px) { .server { grid-template-columns: 1fr; } }
@media print { body { max-width: none; padding: 0; } .server { grid-template-columns: 1fr; } h2 { break-after: avoid; } }
`;
