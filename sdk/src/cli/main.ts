#!/usr/bin/env node
// The `parallax` command. Node ≥ 22.18 runs this TypeScript file as it is (type stripping).
import { EVAL_USAGE } from './args.ts';
import { evalCommand, EXIT_USAGE } from './eval-command.ts';

const USAGE = `Usage: parallax <command> [options]

Commands
  eval    run a dataset on one or more models, score the answers, gate CI (parallax eval --help)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = { stdout: (t: string) => void process.stdout.write(t), stderr: (t: string) => void process.stderr.write(t), env: process.env };
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout(USAGE);
    return command === undefined ? EXIT_USAGE : 0;
  }
  if (command !== 'eval') {
    io.stderr(`parallax: unknown command "${command}"\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(EVAL_USAGE);
    return 0;
  }
  // Ctrl-C (or a CI cancel) stops new calls and aborts the ones in flight; what finished is still reported.
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    io.stderr('\nparallax eval: stopping (again to quit at once)…\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await evalCommand(rest, io, controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`parallax: unexpected failure: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = EXIT_USAGE;
  },
);
