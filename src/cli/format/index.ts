export { type ListOptions, renderList, renderOne } from './formatter.ts';
export { alignTabs, formatTable } from './table.ts';
export { compileTemplate, formatValue, goJson, type Template, truthy } from './template.ts';
export { bytesSize, goG, humanDuration, humanSize, timeAgo } from './units.ts';
