// The install script's other half (package.json: `node-gyp-build || node native/not-built.mjs`). node-gyp-build
// found no prebuilt addon that loads here (the package ships one for linux-x64) and could not compile one (no
// python3, make or C compiler). That must not fail `npm install srvlens`, which would install nothing: the agent,
// the event-loop models, reports and the dashboard need no addon, and a blocking model says what to do when it is
// started. `npm rebuild srvlens` is the user asking for the addon, so there the failure stands, with node-gyp's
// reason above it.
if (process.env.npm_command === 'rebuild') process.exit(1);
process.stderr.write(
  'srvlens: no prebuilt native addon fits this platform and it could not be compiled: the blocking models ' +
    '(iterative, thread-pool, thread-per-connection, prefork, fork-per-connection) will not start until ' +
    '`npm rebuild srvlens` succeeds (needs python3, make and a C compiler); everything else works.\n',
);
