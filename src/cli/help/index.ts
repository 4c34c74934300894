// docker's help layout and usage errors for the berth command.
export { argumentCountMessage, type UsageError, usageError } from './errors.ts';
export { aliasPaths, commandPath, flagTable, formatHelp, helpWidth, usageLine, wrapText } from './layout.ts';
