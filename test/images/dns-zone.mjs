// A DNS upstream for the Pod tests, in buildfence-test/client: answers A queries for the names
// in ZONE (`name=address,name=address`) over UDP port 53, NXDOMAIN for any other name, no
// answer for other types. No dependencies: the query's question is read by hand.
import * as dgram from 'node:dgram';

const zone = new Map(
  (process.env.ZONE ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => kv.split('=')),
);
const socket = dgram.createSocket('udp4');
socket.on('message', (q, rinfo) => {
  let at = 12;
  const labels = [];
  while (q[at] !== 0) {
    labels.push(q.toString('latin1', at + 1, at + 1 + q[at]));
    at += q[at] + 1;
  }
  const question = q.subarray(12, at + 5);
  const type = q.readUInt16BE(at + 1);
  const address = zone.get(labels.join('.').toLowerCase());
  const answer =
    address && type === 1
      ? Buffer.concat([Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]), Buffer.from(address.split('.').map(Number))])
      : Buffer.alloc(0);
  const header = Buffer.alloc(12);
  q.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8180 | (address ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answer.length > 0 ? 1 : 0, 6);
  socket.send(Buffer.concat([header, question, answer]), rinfo.port, rinfo.address);
});
socket.bind(53, () => console.log('dns listening'));
