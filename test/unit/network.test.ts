import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGateways, parseSubnets } from '../../src/engine/network.js';

describe('sandbox network', () => {
  const bridge = {
    Name: 'bridge',
    Driver: 'bridge',
    IPAM: { Config: [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }, { Subnet: 'fd00:0d0c:0000::/64' }] },
  };

  it('reads the subnets as the rules print them, and a gateway for each', () => {
    assert.deepEqual(parseSubnets(bridge), ['172.17.0.0/16', 'fd00:d0c::/64']);
    assert.deepEqual(parseGateways(bridge, "Input 'network'"), ['172.17.0.1', 'fd00:d0c::1']);
    assert.deepEqual(parseSubnets({ ...bridge, IPAM: { Config: [{ Subnet: '10.9.8.7/24' }] } }), ['10.9.8.0/24']);
    assert.deepEqual(parseSubnets({ ...bridge, IPAM: { Config: null } }), []);
  });

  it('refuses a network without a namespace of its own', () => {
    assert.throws(
      () => parseGateways({ ...bridge, Name: 'host', Driver: 'host' }, "Input 'network'"),
      /Input 'network': 'host' uses the host driver/,
    );
  });
});
