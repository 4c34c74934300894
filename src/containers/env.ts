// A container's Config.Env at create: the image's entries, each overridden in place by the
// request's entry of the same name, then the request's new names. An entry without `=` (docker-
// py's `environment={'Foo': None}`, `-e Foo` unset on the client) is kept in Config.Env as
// Docker keeps it and hides the image's `Foo`; the process environment leaves it out
// (replaceOrAppendEnv at start and exec), so the variable is unset inside the container.

const keyOf = (e: string): string => {
  const eq = e.indexOf('=');
  return eq === -1 ? e : e.slice(0, eq);
};

export function createEnv(image: readonly string[], request: readonly string[]): string[] {
  const out = [...image];
  for (const e of request) {
    const key = keyOf(e);
    const i = out.findIndex((x) => keyOf(x) === key);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}
