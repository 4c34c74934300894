// The berth CLI's output formatting: Go templates for --format, docker's tables and units.
import { sprint } from './gofmt.ts';
import { isTrue } from './values.ts';

export {
  type ListOptions,
  QUIET_FORMAT_WARNING,
  type RenderOneOptions,
  renderInspect,
  renderList,
  renderOne,
} from './formatter.ts';
export {
  CONTAINER_HEADERS,
  CONTAINER_TABLE_FORMAT,
  ContainerRow,
  type ContainerSummary,
  displayablePorts,
  ellipsis,
  truncateId,
} from './container-row.ts';
export { type EventJson, eventView } from './event-view.ts';
export { HistoryRow, type HistoryListItem, rfc3339 } from './history-row.ts';
export {
  IMAGE_HEADERS,
  IMAGE_TABLE_FORMAT,
  imageFormat,
  type ImageListItem,
  ImageRow,
  imageRows,
} from './image-row.ts';
export {
  goParsedTimeString,
  listFormat,
  NETWORK_HEADERS,
  NETWORK_TABLE_FORMAT,
  type NetworkListItem,
  NetworkRow,
  naturalCompare,
  VOLUME_HEADERS,
  VOLUME_TABLE_FORMAT,
  type VolumeListItem,
  VolumeRow,
} from './object-rows.ts';
export {
  SEARCH_HEADERS,
  SEARCH_TABLE_FORMAT,
  type SearchResultItem,
  SearchRow,
} from './search-row.ts';
export { withGoFieldNames } from './go-struct.ts';
export { goTimeString } from './go-time.ts';
export { formatFloat, goQuote, sprint, sprintf, sprintln } from './gofmt.ts';
export { type GoJsonOptions, goJson, JsonUnsupportedValueError } from './gojson.ts';
export { alignTabs, displayWidth, formatTable, type TabwriterOptions, tabwrite } from './table.ts';
export {
  type CompileOptions,
  compileTemplate,
  type MissingKey,
  type RenderOptions,
  type Template,
  TemplateError,
  type TemplateFunction,
} from './template.ts';
export { bytesSize, goG, humanDuration, humanSize, ramInBytes, timeAgo } from './units.ts';

/** A value as a template action prints it: `<no value>` for undefined, else Go's `%v`. */
export function formatValue(v: unknown): string {
  return v === undefined ? '<no value>' : sprint(v);
}

/** Go's template truth (false, 0, nil, empty string/list/map are false). */
export function truthy(v: unknown): boolean {
  return isTrue(v);
}
