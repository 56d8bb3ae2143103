// Turns the compose MongoDB into a single-node replica set once; a no-op afterwards.
try {
  rs.status();
} catch (e) {
  rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongo:27017" }] });
}
