/** How each report says what its host ran on: one wording for text, Markdown and HTML. */
import type { Report } from './json-report.js';

/** ", a KVM guest, in a container, governor powersave": what the host runs on, where it was read. */
export function hostSetting(h: Report['host']): string {
  const parts = [
    h.virtual ? `a ${h.virtual === 'unknown' ? 'virtual machine' : `${h.virtual} guest`}` : h.virtual === null ? 'bare metal' : null,
    h.container ? 'in a container' : null,
    h.cpu_governor ? `governor ${h.cpu_governor}` : null,
  ].filter((p) => p !== null);
  return parts.length ? `, ${parts.join(', ')}` : '';
}
