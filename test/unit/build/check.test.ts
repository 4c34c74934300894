// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are Dockerfile text, where ${VAR} is literal
// `berth build --check`: each rule fires on a Dockerfile that breaks it (with the right line) and
// stays quiet on one that does not; the `# check=` directive and syntax errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ALL_RULES,
  type CheckOptions,
  checkDockerfile,
  type Finding,
} from '../../../src/build/check/index.ts';
import { program, simpleCommands } from '../../../src/build/check/shell.ts';

const df = (...lines: string[]) => `${lines.join('\n')}\n`;

function of(rule: string, text: string, opts: CheckOptions = {}): Finding[] {
  return checkDockerfile(text, opts).findings.filter((f) => f.rule === rule);
}

/** The rule reports exactly at these lines (one finding per line listed). */
function fires(rule: string, text: string, lines: number[], opts: CheckOptions = {}): Finding[] {
  const got = of(rule, text, opts);
  assert.deepEqual(
    got.map((f) => f.line),
    lines,
    `${rule}: ${JSON.stringify(got.map((f) => `${f.line}: ${f.message}`))}`,
  );
  for (const f of got) {
    assert.equal(f.level, 'warning');
    assert.ok(f.message.length > 20, 'a message says what is wrong and what to do');
  }
  return got;
}

function quiet(rule: string, text: string, opts: CheckOptions = {}): void {
  const got = of(rule, text, opts);
  assert.deepEqual(got, [], `${rule} should not fire`);
}

const cases: {
  rule: string;
  bad: string;
  lines: number[];
  good: string[];
  opts?: CheckOptions;
  /** Options for the good cases, when they differ from `opts`. */
  goodOpts?: CheckOptions;
  match?: RegExp;
}[] = [
  {
    rule: 'ConsistentInstructionCasing',
    bad: df('FROM alpine:3', 'RUN echo hello > /greeting.txt', 'EntRYpOiNT ["cat", "/greeting.txt"]'),
    lines: [3],
    match: /Command 'EntRYpOiNT' should match the case of the command majority \(uppercase\)/,
    good: [df('from alpine:3', 'run echo hello > /greeting.txt', 'entrypoint ["cat", "/greeting.txt"]')],
  },
  {
    rule: 'FromAsCasing',
    bad: df('FROM debian:12 as builder'),
    lines: [1],
    match: /'as' and 'FROM' keywords' casing do not match/,
    good: [df('FROM debian:12 AS deb-builder'), df('from debian:12 as deb-builder')],
  },
  {
    rule: 'StageNameCasing',
    bad: df('FROM alpine:3 AS BuilderBase'),
    lines: [1],
    match: /Stage name 'BuilderBase' should be lowercase/,
    good: [df('FROM alpine:3 AS builder-base')],
  },
  {
    rule: 'ReservedStageName',
    bad: df('FROM alpine:3 AS scratch', 'FROM alpine:3 AS context'),
    lines: [1, 2],
    match: /is reserved and should not be used as a stage name/,
    good: [df('FROM alpine:3 AS builder')],
  },
  {
    rule: 'JSONArgsRecommended',
    bad: df('FROM alpine:3', 'RUN true', 'CMD ["x"]', 'ENTRYPOINT my-program start'),
    lines: [4],
    match: /JSON arguments recommended for ENTRYPOINT/,
    good: [
      df('FROM alpine:3', 'ENTRYPOINT ["my-program", "start"]'),
      df('FROM alpine:3', 'SHELL ["/bin/bash", "-c"]', 'ENTRYPOINT echo "hello world"'),
      df('FROM alpine:3 AS base', 'SHELL ["/bin/sh", "-c"]', 'FROM base', 'CMD echo hi'),
    ],
  },
  {
    rule: 'MaintainerDeprecated',
    bad: df('FROM alpine:3', 'MAINTAINER moby@example.com'),
    lines: [2],
    match: /org\.opencontainers\.image\.authors="moby@example\.com"/,
    good: [df('FROM alpine:3', 'LABEL org.opencontainers.image.authors="moby@example.com"')],
  },
  {
    rule: 'MultipleInstructionsDisallowed',
    bad: df(
      'FROM alpine:3',
      'ENTRYPOINT ["echo", "Hello, Norway!"]',
      'ENTRYPOINT ["echo", "Hello, Sweden!"]',
    ),
    lines: [2],
    match: /Multiple ENTRYPOINT instructions should not be used in the same stage/,
    good: [
      df(
        'FROM python:3-alpine',
        'HEALTHCHECK --interval=1s --timeout=3s \\',
        '  CMD ["curl", "-f", "http://localhost:8080"]',
        'CMD ["python", "-m", "http.server", "8080"]',
      ),
      df('FROM alpine:3 AS a', 'CMD ["a"]', 'FROM alpine:3', 'CMD ["b"]'),
    ],
  },
  {
    rule: 'LegacyKeyValueFormat',
    bad: df('FROM alpine:3', 'ENV DEPS \\', '    curl \\', '    git'),
    lines: [2],
    match: /"ENV key=value" should be used instead of legacy "ENV key value" format/,
    good: [df('FROM alpine:3', 'ENV DEPS="curl git"', 'LABEL a=b')],
  },
  {
    rule: 'ExposeInvalidFormat',
    bad: df('FROM alpine:3', 'EXPOSE 127.0.0.1:80:80', 'EXPOSE 8080:80'),
    lines: [2, 3],
    match: /should not define an IP address or host-port mapping, found '127\.0\.0\.1:80:80'/,
    good: [df('FROM alpine:3', 'EXPOSE 80 443/udp', 'ARG P=80', 'EXPOSE ${P:-80}')],
  },
  {
    rule: 'ExposeProtoCasing',
    bad: df('FROM alpine:3', 'EXPOSE 80/TcP'),
    lines: [2],
    match: /Defined protocol '80\/TcP' in EXPOSE instruction should be lowercase/,
    good: [df('FROM alpine:3', 'EXPOSE 80/tcp 53/udp')],
  },
  {
    rule: 'WorkdirRelativePath',
    bad: df('FROM nginx:1 AS web', 'WORKDIR usr/share/nginx/html', 'COPY public .'),
    lines: [2],
    match: /Relative workdir 'usr\/share\/nginx\/html' can have unexpected results/,
    good: [
      df('FROM nginx:1 AS web', 'WORKDIR /usr/share/nginx/html', 'COPY public .'),
      df('FROM alpine:3', 'WORKDIR /app', 'WORKDIR src'),
      df('FROM alpine:3 AS base', 'WORKDIR /app', 'FROM base', 'WORKDIR src'),
    ],
  },
  {
    rule: 'NoEmptyContinuation',
    bad: df('FROM alpine:3', 'EXPOSE \\', '', '80'),
    lines: [2],
    match: /Empty continuation line found in: EXPOSE/,
    good: [df('FROM alpine:3', 'EXPOSE \\', '# Port', '80')],
  },
  {
    rule: 'UndefinedVar',
    bad: df('FROM alpine:3 AS base', 'COPY $foo .', 'ARG VERSION=$bar'),
    lines: [2, 3],
    match: /Usage of undefined variable '\$foo'/,
    good: [
      df('FROM alpine:3 AS base', 'ARG foo', 'COPY $foo .'),
      df('FROM alpine:3', 'ENV APP=/app', 'WORKDIR $APP', 'ENV PATH=$PATH:/app/bin'),
      df('FROM alpine:3', 'RUN echo $undefined_in_shell', 'CMD echo $HOME'),
      df('FROM scratch AS a', 'ENV X=1', 'FROM a', 'LABEL x=$X'),
    ],
  },
  {
    rule: 'UndefinedArgInFrom',
    bad: df('FROM node:22${VARIANT} AS jsbuilder'),
    lines: [1],
    match: /FROM argument 'VARIANT' is not declared/,
    good: [
      df('ARG VARIANT="-alpine3.20"', 'FROM node:22${VARIANT} AS jsbuilder'),
      df('FROM --platform=$BUILDPLATFORM alpine:3'),
    ],
  },
  {
    rule: 'InvalidDefaultArgInFrom',
    bad: df('ARG TAG', 'FROM busybox:${TAG}'),
    lines: [2],
    match: /Default value for ARG busybox:\$\{TAG\} results in empty or invalid base image name/,
    good: [
      df('ARG TAG=latest', 'FROM busybox:${TAG}'),
      df('ARG VARIANT', 'FROM busybox:stable${VARIANT}'),
      df('ARG TAG', 'FROM alpine:${TAG:-3.14}'),
    ],
  },
  {
    rule: 'SecretsUsedInArgOrEnv',
    bad: df('FROM alpine:3', 'ARG AWS_ACCESS_KEY_ID', 'ARG AWS_SECRET_ACCESS_KEY', 'ENV GITHUB_TOKEN=x'),
    lines: [2, 3, 4],
    match: /Do not use ARG or ENV instructions for sensitive data \(ARG "AWS_ACCESS_KEY_ID"\)/,
    good: [df('FROM alpine:3', 'ARG VERSION=1', 'ENV PUBLIC_KEY=abc MONKEY=1 TOKENS_DIR=/t')],
  },
  {
    rule: 'FromPlatformFlagConstDisallowed',
    bad: df('FROM --platform=linux/amd64 alpine:3 AS base', 'RUN apk add --no-cache git'),
    lines: [1],
    match: /FROM --platform flag should not use constant value "linux\/amd64"/,
    good: [
      df('FROM --platform=${BUILDPLATFORM} alpine:3 AS base'),
      df(
        'FROM --platform=linux/amd64 alpine:3 AS build_amd64',
        'FROM --platform=linux/arm64 alpine:3 AS build_arm64',
      ),
    ],
  },
  {
    rule: 'RedundantTargetPlatform',
    bad: df('FROM --platform=$TARGETPLATFORM alpine:3 AS builder'),
    lines: [1],
    match: /Setting platform to predefined \$TARGETPLATFORM in FROM is redundant/,
    good: [df('FROM alpine:3 AS builder'), df('FROM --platform=$BUILDPLATFORM alpine:3 AS builder')],
  },
  {
    rule: 'CopyIgnoredFile',
    bad: df('FROM scratch', 'COPY ./tmp/helloworld.txt /helloworld.txt', 'ADD tmp/b /b'),
    lines: [2, 3],
    opts: { ignoredPaths: (p) => /^[^/]*\/?tmp\//.test(`/${p}`) || p.startsWith('tmp/') },
    match: /Attempting to Copy file "\.\/tmp\/helloworld\.txt" that is excluded by \.dockerignore/,
    good: [
      df('FROM scratch', 'COPY ./forever/helloworld.txt /helloworld.txt', 'COPY --from=busybox:1 /tmp/x /x'),
    ],
  },
  {
    rule: 'InvalidDefinitionDescription',
    bad: df(
      '# check=experimental=InvalidDefinitionDescription',
      '# a non-descriptive comment',
      'FROM scratch AS base',
      '',
      '# another non-descriptive comment',
      'ARG VERSION=1',
    ),
    lines: [3, 6],
    match: /Comment for build stage should follow the format: `# base <description>`/,
    good: [
      df(
        '# check=experimental=all',
        '# base is a stage for compiling source',
        'FROM scratch AS base',
        '# VERSION This is the version number.',
        'ARG VERSION=1',
      ),
      df('# check=experimental=all', '# a non-descriptive comment', '', 'FROM scratch AS base'),
      // Experimental: off unless the directive asks for it, as in Docker.
      df('# a non-descriptive comment', 'FROM scratch AS base'),
    ],
  },
  {
    rule: 'PreferCopyOverAdd',
    bad: df('FROM alpine:3', 'ADD app.js /app/'),
    lines: [2],
    match: /use COPY/,
    good: [
      df('FROM alpine:3', 'COPY app.js /app/'),
      df('FROM alpine:3', 'ADD rootfs.tar.gz /'),
      df('FROM alpine:3', 'ADD https://example.com/file.txt /file.txt'),
      df('FROM alpine:3', 'ADD git@github.com:moby/buildkit.git /src'),
    ],
  },
  {
    rule: 'AptGetInstallWithoutYes',
    bad: df(
      'FROM debian:12',
      'RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install --no-install-recommends curl',
    ),
    lines: [2],
    match: /apt-get install without -y/,
    good: [
      df('FROM debian:12', 'RUN apt-get update && apt-get install -y curl'),
      df('FROM debian:12', 'RUN apt-get -qy install curl'),
      df('FROM debian:12', 'RUN apt-get install --yes curl && apt-get install -qqy git'),
      df('FROM debian:12', 'RUN yes | apt-get install curl'),
      df('FROM debian:12', 'RUN echo "apt-get install curl"'),
    ],
  },
  {
    rule: 'DeletedInLaterLayer',
    bad: df(
      'FROM debian:12',
      'RUN apt-get update',
      'RUN wget -O /tmp/src.tgz https://example.com/src.tgz',
      'RUN tar -xzf /tmp/src.tgz -C /opt',
      'COPY big.iso /tmp/',
      'RUN rm /tmp/src.tgz && rm -rf /var/lib/apt/lists/*',
      'RUN rm -f /tmp/big.iso',
    ),
    lines: [6, 6, 7],
    match: /'\/tmp\/src\.tgz' made at line 3 \(wget\) is removed here/,
    good: [
      df(
        'FROM debian:12',
        'RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*',
        'RUN wget -O /tmp/src.tgz https://example.com/src.tgz && tar -xzf /tmp/src.tgz -C /opt && rm /tmp/src.tgz',
      ),
      df('FROM debian:12 AS a', 'COPY big.iso /tmp/', 'FROM debian:12', 'RUN rm -f /tmp/big.iso'),
    ],
  },
  {
    rule: 'LargeContextWithoutDockerignore',
    bad: df('FROM alpine:3'),
    lines: [0],
    opts: { contextSize: 512 * 1024 * 1024, hasDockerignore: false },
    match: /The build context holds at least 512 MiB and has no \.dockerignore/,
    good: [df('FROM alpine:3')],
    goodOpts: { contextSize: 512 * 1024 * 1024, hasDockerignore: true },
  },
  {
    rule: 'LatestBaseTag',
    bad: df('FROM alpine', 'FROM busybox:latest AS b', 'ARG V=latest', 'FROM debian:${V}'),
    lines: [1, 2],
    match: /Base image 'alpine' has no tag, so it means :latest/,
    good: [
      df('FROM alpine:3.20 AS base', 'FROM base', 'FROM scratch'),
      df(`FROM alpine@sha256:${'a'.repeat(64)}`),
    ],
  },
];

describe('build --check rules', () => {
  test('every rule has a case here', () => {
    // DuplicateStageName: the parser refuses such files; see the syntax-error tests.
    const covered = new Set([...cases.map((c) => c.rule), 'DuplicateStageName']);
    assert.deepEqual(
      ALL_RULES.map((r) => r.name).filter((n) => !covered.has(n)),
      [],
    );
  });

  for (const c of cases) {
    test(`${c.rule} fires`, () => {
      const got = fires(c.rule, c.bad, c.lines, c.opts);
      if (c.match) assert.match(got[0]!.message, c.match);
    });
    test(`${c.rule} stays quiet`, () => {
      for (const g of c.good) quiet(c.rule, g, c.goodOpts ?? c.opts);
    });
  }

  test('LargeContextWithoutDockerignore: quiet for a small context or an unknown size', () => {
    quiet('LargeContextWithoutDockerignore', df('FROM alpine:3'), { hasDockerignore: false });
    quiet('LargeContextWithoutDockerignore', df('FROM alpine:3'), {
      contextSize: 1024,
      hasDockerignore: false,
    });
  });

  test('LatestBaseTag: an ARG default of latest counts', () => {
    // Line 4's image is debian:${V} with V=latest.
    const text = df('ARG V=latest', 'FROM debian:12', 'RUN true', 'FROM debian:${V}');
    fires('LatestBaseTag', text, [4]);
  });

  test('UndefinedVar suggests the name meant', () => {
    const [f] = fires('UndefinedVar', df('FROM alpine:3', 'ENV PATH=$PAHT:/app/bin'), [2]);
    assert.match(f!.message, /Usage of undefined variable '\$PAHT' \(did you mean \$PATH\?\)/);
  });

  test('Docker rules link to their reference page, Berth rules do not', () => {
    const [d] = of('JSONArgsRecommended', df('FROM alpine:3', 'CMD echo hi'));
    assert.equal(d!.url, 'https://docs.docker.com/go/dockerfile/rule/json-args-recommended/');
    const [b] = of('LatestBaseTag', df('FROM alpine'));
    assert.equal(b!.url, undefined);
  });
});

describe('# check= directive', () => {
  const bad = (directive: string) => df(directive, 'FROM alpine:3', 'CMD echo hi', 'MAINTAINER me');

  test('without a directive, warnings do not fail the check', () => {
    const r = checkDockerfile(bad('# syntax=docker/dockerfile:1'));
    assert.deepEqual(
      r.findings.map((f) => f.rule),
      ['JSONArgsRecommended', 'MaintainerDeprecated'],
    );
    assert.equal(r.failed, false);
  });

  test('skip=Rule1,Rule2 drops those rules only', () => {
    const r = checkDockerfile(bad('# check=skip=JSONArgsRecommended, LatestBaseTag'));
    assert.deepEqual(
      r.findings.map((f) => f.rule),
      ['MaintainerDeprecated'],
    );
  });

  test('skip=all drops every rule', () => {
    const r = checkDockerfile(bad('# check=skip=all;error=true'));
    assert.deepEqual(r.findings, []);
    assert.equal(r.failed, false);
  });

  test('error=true makes warnings fail the check', () => {
    const r = checkDockerfile(bad('# check=error=true'));
    assert.equal(r.findings.length, 2);
    assert.equal(r.failed, true);
    const clean = checkDockerfile(df('# check=error=true', 'FROM alpine:3', 'CMD ["x"]'));
    assert.deepEqual(clean, { findings: [], failed: false });
  });

  test('a bad directive is an error finding on its line', () => {
    const r = checkDockerfile(df('# syntax=docker/dockerfile:1', '# check=skip=A;bogus=1', 'FROM alpine:3'));
    const [f] = r.findings;
    assert.equal(f?.rule, 'CheckDirective');
    assert.equal(f?.level, 'error');
    assert.equal(f?.line, 2);
    assert.match(f!.message, /bogus/);
    assert.equal(r.failed, true);
  });
});

describe('syntax errors', () => {
  test('a syntax error is an error finding with its line', () => {
    const r = checkDockerfile(df('FROM alpine:3', 'RUN true', 'FROBNICATE now'));
    assert.equal(r.failed, true);
    assert.equal(r.findings.length, 1);
    const [f] = r.findings;
    assert.equal(f!.level, 'error');
    assert.equal(f!.line, 3);
    assert.match(f!.message, /FROBNICATE/);
  });

  test('a duplicate stage name (which the parser refuses) is a DuplicateStageName error', () => {
    const r = checkDockerfile(df('FROM debian:12 AS builder', 'RUN true', '', 'FROM golang:1.22 AS builder'));
    assert.equal(r.failed, true);
    assert.deepEqual(
      r.findings.map((f) => [f.rule, f.level, f.line]),
      [['DuplicateStageName', 'error', 4]],
    );
    assert.match(r.findings[0]!.message, /Duplicate stage name "builder"/);
    assert.equal(r.findings[0]!.url, 'https://docs.docker.com/go/dockerfile/rule/duplicate-stage-name/');
  });

  test('a Dockerfile without FROM is an error', () => {
    const r = checkDockerfile(df('# just a comment'));
    assert.equal(r.failed, true);
    assert.equal(r.findings[0]?.level, 'error');
  });
});

describe('RUN script reader', () => {
  const words = (script: string) => simpleCommands(script).map((c) => c.words.map((w) => w.text));

  test('splits on && || ; | & and newlines, keeps quoted operators', () => {
    assert.deepEqual(words('a 1 && b "x && y" || c;d | e & f\ng \\\n h'), [
      ['a', '1'],
      ['b', 'x && y'],
      ['c'],
      ['d'],
      ['e'],
      ['f'],
      ['g', 'h'],
    ]);
  });

  test('redirections are not words; descriptors and dups are dropped', () => {
    const [c] = simpleCommands('echo hi 2>&1 >/tmp/out 2> /tmp/err');
    assert.deepEqual(
      c!.words.map((w) => w.text),
      ['echo', 'hi'],
    );
    assert.deepEqual(
      c!.redirects.map((r) => [r.op, r.target.text]),
      [
        ['>', '/tmp/out'],
        ['>', '/tmp/err'],
      ],
    );
  });

  test('variables make a word dynamic; single quotes do not', () => {
    const [c] = simpleCommands(`rm -rf "$DIR"/x '$lit' \${HOME}`);
    assert.deepEqual(
      c!.words.map((w) => [w.text, w.dynamic]),
      [
        ['rm', false],
        ['-rf', false],
        ['$DIR/x', true],
        ['$lit', false],
        ['${HOME}', true],
      ],
    );
  });

  test('program() skips assignments and wrappers; pipes link commands', () => {
    const cmds = simpleCommands('yes | DEBIAN_FRONTEND=noninteractive sudo -E apt-get install x');
    assert.equal(program(cmds[1]!)?.name, 'apt-get');
    assert.equal(program(cmds[1]!.pipedFrom!)?.name, 'yes');
  });
});

describe('DeletedInLaterLayer globs', () => {
  test('a hostile rm glob against a long copied path finishes, with the right answer', () => {
    const long = `/${'a'.repeat(120)}c`;
    // A JavaScript RegExp for this glob backtracks polynomially; the linear matcher answers.
    quiet('DeletedInLaterLayer', df('FROM busybox', `COPY x ${long}`, `RUN rm -rf /${'*a'.repeat(20)}*b`));
    fires(
      'DeletedInLaterLayer',
      df('FROM busybox', `COPY x ${long}`, `RUN rm -rf /${'*a'.repeat(20)}*c`),
      [3],
    );
  });

  test('shell negation [!…] and a malformed glob', () => {
    fires('DeletedInLaterLayer', df('FROM busybox', 'COPY x /tmp/xy', 'RUN rm -rf /tmp/x[!a]'), [3]);
    quiet('DeletedInLaterLayer', df('FROM busybox', 'COPY x /tmp/xa', 'RUN rm -rf /tmp/x[!a]'));
    quiet('DeletedInLaterLayer', df('FROM busybox', 'COPY x /tmp/x[', 'RUN rm -rf /tmp/x[*'));
  });
});
