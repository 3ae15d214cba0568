'use strict';
// The Firestore emulator for the store tests, on 127.0.0.1 only: the package's own
// FirestoreServer.start() binds every interface, so this binds its gRPC server itself.
// Usage: node serve.js PORT. Prints "ready <port>" once listening; stops on SIGTERM/SIGINT.
const {ServerCredentials} = require('@grpc/grpc-js');
const {FirestoreServer} = require('@firestore-emulator/server');

const port = Number(process.argv[2] || process.env.PORT || 0);
const emulator = new FirestoreServer();
// `server` is private in the TypeScript source only; the class has no host option.
emulator.server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) => {
  if (error) {
    console.error(`cannot listen on 127.0.0.1:${port}: ${error.message}`);
    process.exit(1);
  }
  console.log(`ready ${bound}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    emulator.stop();
    process.exit(0);
  });
}
