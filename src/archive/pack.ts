export function packDirectory(_dir: string): import("node:stream").Readable { throw new Error("todo"); }
