#!/usr/bin/env node
import { createRequire as __bfCreateRequire } from 'node:module'; import { fileURLToPath as __bfFileURLToPath } from 'node:url'; const require = __bfCreateRequire(import.meta.url); const __dirname = __bfFileURLToPath(new URL(".", import.meta.url));
import {
  __commonJS,
  __toESM
} from "./chunk-UND5B5GE.js";

// node_modules/ipaddr.js/lib/ipaddr.js
var require_ipaddr = __commonJS({
  "node_modules/ipaddr.js/lib/ipaddr.js"(exports, module) {
    (function(root) {
      "use strict";
      const ipv4Part = "(0?\\d+|0x[a-f0-9]+)";
      const ipv4Regexes = {
        fourOctet: new RegExp(`^${ipv4Part}\\.${ipv4Part}\\.${ipv4Part}\\.${ipv4Part}$`, "i"),
        threeOctet: new RegExp(`^${ipv4Part}\\.${ipv4Part}\\.${ipv4Part}$`, "i"),
        twoOctet: new RegExp(`^${ipv4Part}\\.${ipv4Part}$`, "i"),
        longValue: new RegExp(`^${ipv4Part}$`, "i")
      };
      const octalRegex = new RegExp(`^0[0-7]+$`, "i");
      const hexRegex = new RegExp(`^0x[a-f0-9]+$`, "i");
      const zoneIndex = "%[0-9a-z]{1,}";
      const ipv6Part = "(?:[0-9a-f]+::?)+";
      const ipv6Regexes = {
        zoneIndex: new RegExp(zoneIndex, "i"),
        "native": new RegExp(`^(::)?(${ipv6Part})?([0-9a-f]+)?(::)?(${zoneIndex})?$`, "i"),
        deprecatedTransitional: new RegExp(`^(?:::)(${ipv4Part}\\.${ipv4Part}\\.${ipv4Part}\\.${ipv4Part}(${zoneIndex})?)$`, "i"),
        transitional: new RegExp(`^((?:${ipv6Part})|(?:::)(?:${ipv6Part})?)${ipv4Part}\\.${ipv4Part}\\.${ipv4Part}\\.${ipv4Part}(${zoneIndex})?$`, "i")
      };
      function expandIPv6(string, parts) {
        if (string.indexOf("::") !== string.lastIndexOf("::")) {
          return null;
        }
        let colonCount = 0;
        let lastColon = -1;
        let zoneId = (string.match(ipv6Regexes.zoneIndex) || [])[0];
        let replacement, replacementCount;
        if (zoneId) {
          zoneId = zoneId.substring(1);
          string = string.replace(/%.+$/, "");
        }
        while ((lastColon = string.indexOf(":", lastColon + 1)) >= 0) {
          colonCount++;
        }
        if (string.substr(0, 2) === "::") {
          colonCount--;
        }
        if (string.substr(-2, 2) === "::") {
          colonCount--;
        }
        if (colonCount >= parts) {
          return null;
        }
        replacementCount = parts - colonCount;
        replacement = ":";
        while (replacementCount--) {
          replacement += "0:";
        }
        string = string.replace("::", replacement);
        if (string[0] === ":") {
          string = string.slice(1);
        }
        if (string[string.length - 1] === ":") {
          string = string.slice(0, -1);
        }
        parts = (function() {
          const ref = string.split(":");
          const results = [];
          for (let i = 0; i < ref.length; i++) {
            results.push(ref[i].length > 4 ? NaN : parseInt(ref[i], 16));
          }
          return results;
        })();
        return {
          parts,
          zoneId
        };
      }
      function matchCIDR(first, second, partSize, cidrBits) {
        if (first.length !== second.length) {
          throw new Error("ipaddr: cannot match CIDR for objects with different lengths");
        }
        let part = 0;
        let shift;
        while (cidrBits > 0) {
          shift = partSize - cidrBits;
          if (shift < 0) {
            shift = 0;
          }
          if (first[part] >> shift !== second[part] >> shift) {
            return false;
          }
          cidrBits -= partSize;
          part += 1;
        }
        return true;
      }
      function parseIntAuto(string) {
        if (hexRegex.test(string)) {
          return parseInt(string, 16);
        }
        if (string[0] === "0" && !isNaN(parseInt(string[1], 10))) {
          if (octalRegex.test(string)) {
            return parseInt(string, 8);
          }
          throw new Error(`ipaddr: cannot parse ${string} as octal`);
        }
        return parseInt(string, 10);
      }
      function padPart(part, length) {
        while (part.length < length) {
          part = `0${part}`;
        }
        return part;
      }
      const ipaddr3 = {};
      ipaddr3.IPv4 = (function() {
        function IPv4(octets) {
          if (octets.length !== 4) {
            throw new Error("ipaddr: ipv4 octet count should be 4");
          }
          let i, octet;
          for (i = 0; i < octets.length; i++) {
            octet = octets[i];
            if (!(0 <= octet && octet <= 255)) {
              throw new Error("ipaddr: ipv4 octet should fit in 8 bits");
            }
          }
          this.octets = octets;
        }
        IPv4.prototype.SpecialRanges = {
          unspecified: [[new IPv4([0, 0, 0, 0]), 8]],
          broadcast: [[new IPv4([255, 255, 255, 255]), 32]],
          // RFC3171
          multicast: [[new IPv4([224, 0, 0, 0]), 4]],
          // RFC3927
          linkLocal: [[new IPv4([169, 254, 0, 0]), 16]],
          // RFC5735
          loopback: [[new IPv4([127, 0, 0, 0]), 8]],
          // RFC6598
          carrierGradeNat: [[new IPv4([100, 64, 0, 0]), 10]],
          // RFC1918
          "private": [
            [new IPv4([10, 0, 0, 0]), 8],
            [new IPv4([172, 16, 0, 0]), 12],
            [new IPv4([192, 168, 0, 0]), 16]
          ],
          // Reserved and testing-only ranges; RFCs 5735, 5737, 2544, 1700
          reserved: [
            [new IPv4([192, 0, 0, 0]), 24],
            [new IPv4([192, 0, 2, 0]), 24],
            [new IPv4([192, 88, 99, 0]), 24],
            [new IPv4([198, 18, 0, 0]), 15],
            [new IPv4([198, 51, 100, 0]), 24],
            [new IPv4([203, 0, 113, 0]), 24],
            [new IPv4([240, 0, 0, 0]), 4]
          ],
          // RFC7534, RFC7535
          as112: [
            [new IPv4([192, 175, 48, 0]), 24],
            [new IPv4([192, 31, 196, 0]), 24]
          ],
          // RFC7450
          amt: [
            [new IPv4([192, 52, 193, 0]), 24]
          ]
        };
        IPv4.prototype.kind = function() {
          return "ipv4";
        };
        IPv4.prototype.match = function(other, cidrRange) {
          let ref;
          if (cidrRange === void 0) {
            ref = other;
            other = ref[0];
            cidrRange = ref[1];
          }
          if (other.kind() !== "ipv4") {
            throw new Error("ipaddr: cannot match ipv4 address with non-ipv4 one");
          }
          return matchCIDR(this.octets, other.octets, 8, cidrRange);
        };
        IPv4.prototype.prefixLengthFromSubnetMask = function() {
          let cidr = 0;
          let stop = false;
          const zerotable = {
            0: 8,
            128: 7,
            192: 6,
            224: 5,
            240: 4,
            248: 3,
            252: 2,
            254: 1,
            255: 0
          };
          let i, octet, zeros;
          for (i = 3; i >= 0; i -= 1) {
            octet = this.octets[i];
            if (octet in zerotable) {
              zeros = zerotable[octet];
              if (stop && zeros !== 0) {
                return null;
              }
              if (zeros !== 8) {
                stop = true;
              }
              cidr += zeros;
            } else {
              return null;
            }
          }
          return 32 - cidr;
        };
        IPv4.prototype.range = function() {
          return ipaddr3.subnetMatch(this, this.SpecialRanges);
        };
        IPv4.prototype.toByteArray = function() {
          return this.octets.slice(0);
        };
        IPv4.prototype.toIPv4MappedAddress = function() {
          return ipaddr3.IPv6.parse(`::ffff:${this.toString()}`);
        };
        IPv4.prototype.toNormalizedString = function() {
          return this.toString();
        };
        IPv4.prototype.toString = function() {
          return this.octets.join(".");
        };
        return IPv4;
      })();
      ipaddr3.IPv4.broadcastAddressFromCIDR = function(string) {
        try {
          const cidr = this.parseCIDR(string);
          const ipInterfaceOctets = cidr[0].toByteArray();
          const subnetMaskOctets = this.subnetMaskFromPrefixLength(cidr[1]).toByteArray();
          const octets = [];
          let i = 0;
          while (i < 4) {
            octets.push(parseInt(ipInterfaceOctets[i], 10) | parseInt(subnetMaskOctets[i], 10) ^ 255);
            i++;
          }
          return new this(octets);
        } catch (e) {
          throw new Error("ipaddr: the address does not have IPv4 CIDR format", { cause: e });
        }
      };
      ipaddr3.IPv4.isIPv4 = function(string) {
        return this.parser(string) !== null;
      };
      ipaddr3.IPv4.isValid = function(string) {
        try {
          new this(this.parser(string));
          return true;
        } catch {
          return false;
        }
      };
      ipaddr3.IPv4.isValidCIDR = function(string) {
        try {
          this.parseCIDR(string);
          return true;
        } catch {
          return false;
        }
      };
      ipaddr3.IPv4.isValidFourPartDecimal = function(string) {
        if (ipaddr3.IPv4.isValid(string) && string.match(/^(0|[1-9]\d*)(\.(0|[1-9]\d*)){3}$/)) {
          return true;
        } else {
          return false;
        }
      };
      ipaddr3.IPv4.isValidCIDRFourPartDecimal = function(string) {
        const match = string.match(/^(.+)\/(\d+)$/);
        if (!ipaddr3.IPv4.isValidCIDR(string) || !match) {
          return false;
        }
        return ipaddr3.IPv4.isValidFourPartDecimal(match[1]);
      };
      ipaddr3.IPv4.networkAddressFromCIDR = function(string) {
        let cidr, i, ipInterfaceOctets, octets, subnetMaskOctets;
        try {
          cidr = this.parseCIDR(string);
          ipInterfaceOctets = cidr[0].toByteArray();
          subnetMaskOctets = this.subnetMaskFromPrefixLength(cidr[1]).toByteArray();
          octets = [];
          i = 0;
          while (i < 4) {
            octets.push(parseInt(ipInterfaceOctets[i], 10) & parseInt(subnetMaskOctets[i], 10));
            i++;
          }
          return new this(octets);
        } catch (e) {
          throw new Error("ipaddr: the address does not have IPv4 CIDR format", { cause: e });
        }
      };
      ipaddr3.IPv4.parse = function(string) {
        const parts = this.parser(string);
        if (parts === null) {
          throw new Error("ipaddr: string is not formatted like an IPv4 Address");
        }
        return new this(parts);
      };
      ipaddr3.IPv4.parseCIDR = function(string) {
        let match;
        if (match = string.match(/^(.+)\/(\d+)$/)) {
          const maskLength = parseInt(match[2]);
          if (maskLength >= 0 && maskLength <= 32) {
            const parsed = [this.parse(match[1]), maskLength];
            Object.defineProperty(parsed, "toString", {
              value: function() {
                return this.join("/");
              }
            });
            return parsed;
          }
        }
        throw new Error("ipaddr: string is not formatted like an IPv4 CIDR range");
      };
      ipaddr3.IPv4.parser = function(string) {
        let match, part, value;
        if (match = string.match(ipv4Regexes.fourOctet)) {
          return (function() {
            const ref = match.slice(1, 6);
            const results = [];
            for (let i = 0; i < ref.length; i++) {
              part = ref[i];
              results.push(parseIntAuto(part));
            }
            return results;
          })();
        } else if (match = string.match(ipv4Regexes.longValue)) {
          value = parseIntAuto(match[1]);
          if (value > 4294967295 || value < 0) {
            throw new Error("ipaddr: address outside defined range");
          }
          return (function() {
            const results = [];
            let shift;
            for (shift = 0; shift <= 24; shift += 8) {
              results.push(value >> shift & 255);
            }
            return results;
          })().reverse();
        } else if (match = string.match(ipv4Regexes.twoOctet)) {
          return (function() {
            const ref = match.slice(1, 4);
            const results = [];
            value = parseIntAuto(ref[1]);
            if (value > 16777215 || value < 0) {
              throw new Error("ipaddr: address outside defined range");
            }
            results.push(parseIntAuto(ref[0]));
            results.push(value >> 16 & 255);
            results.push(value >> 8 & 255);
            results.push(value & 255);
            return results;
          })();
        } else if (match = string.match(ipv4Regexes.threeOctet)) {
          return (function() {
            const ref = match.slice(1, 5);
            const results = [];
            value = parseIntAuto(ref[2]);
            if (value > 65535 || value < 0) {
              throw new Error("ipaddr: address outside defined range");
            }
            results.push(parseIntAuto(ref[0]));
            results.push(parseIntAuto(ref[1]));
            results.push(value >> 8 & 255);
            results.push(value & 255);
            return results;
          })();
        } else {
          return null;
        }
      };
      ipaddr3.IPv4.subnetMaskFromPrefixLength = function(prefix) {
        prefix = parseInt(prefix);
        if (Number.isNaN(prefix) || prefix < 0 || prefix > 32) {
          throw new Error("ipaddr: invalid IPv4 prefix length");
        }
        const octets = [0, 0, 0, 0];
        let j = 0;
        const filledOctetCount = Math.floor(prefix / 8);
        while (j < filledOctetCount) {
          octets[j] = 255;
          j++;
        }
        if (filledOctetCount < 4) {
          octets[filledOctetCount] = Math.pow(2, prefix % 8) - 1 << 8 - prefix % 8;
        }
        return new this(octets);
      };
      ipaddr3.IPv6 = (function() {
        function IPv6(parts, zoneId) {
          let i, part;
          if (parts.length === 16) {
            this.parts = [];
            for (i = 0; i <= 14; i += 2) {
              this.parts.push(parts[i] << 8 | parts[i + 1]);
            }
          } else if (parts.length === 8) {
            this.parts = parts;
          } else {
            throw new Error("ipaddr: ipv6 part count should be 8 or 16");
          }
          for (i = 0; i < this.parts.length; i++) {
            part = this.parts[i];
            if (!(0 <= part && part <= 65535)) {
              throw new Error("ipaddr: ipv6 part should fit in 16 bits");
            }
          }
          if (zoneId) {
            this.zoneId = zoneId;
          }
        }
        IPv6.prototype.SpecialRanges = {
          // RFC4291, here and after
          unspecified: [new IPv6([0, 0, 0, 0, 0, 0, 0, 0]), 128],
          linkLocal: [new IPv6([65152, 0, 0, 0, 0, 0, 0, 0]), 10],
          multicast: [new IPv6([65280, 0, 0, 0, 0, 0, 0, 0]), 8],
          loopback: [new IPv6([0, 0, 0, 0, 0, 0, 0, 1]), 128],
          uniqueLocal: [new IPv6([64512, 0, 0, 0, 0, 0, 0, 0]), 7],
          ipv4Mapped: [new IPv6([0, 0, 0, 0, 0, 65535, 0, 0]), 96],
          // RFC3879
          deprecatedSiteLocal: [new IPv6([65216, 0, 0, 0, 0, 0, 0, 0]), 10],
          // RFC6666
          discard: [new IPv6([256, 0, 0, 0, 0, 0, 0, 0]), 64],
          // RFC6145
          rfc6145: [new IPv6([0, 0, 0, 0, 65535, 0, 0, 0]), 96],
          rfc6052: [
            // RFC6052
            [new IPv6([100, 65435, 0, 0, 0, 0, 0, 0]), 96],
            // RFC8215
            [new IPv6([100, 65435, 1, 0, 0, 0, 0, 0]), 48]
          ],
          // RFC3056
          "6to4": [new IPv6([8194, 0, 0, 0, 0, 0, 0, 0]), 16],
          // RFC6052, RFC6146
          teredo: [new IPv6([8193, 0, 0, 0, 0, 0, 0, 0]), 32],
          // RFC5180
          benchmarking: [new IPv6([8193, 2, 0, 0, 0, 0, 0, 0]), 48],
          // RFC7450
          amt: [new IPv6([8193, 3, 0, 0, 0, 0, 0, 0]), 32],
          as112v6: [
            // RFC7535
            [new IPv6([8193, 4, 274, 0, 0, 0, 0, 0]), 48],
            // RFC7534
            [new IPv6([9760, 79, 32768, 0, 0, 0, 0, 0]), 48]
          ],
          // RFC4843
          deprecatedOrchid: [new IPv6([8193, 16, 0, 0, 0, 0, 0, 0]), 28],
          // RFC7343
          orchid2: [new IPv6([8193, 32, 0, 0, 0, 0, 0, 0]), 28],
          // RFC9374
          droneRemoteIdProtocolEntityTags: [new IPv6([8193, 48, 0, 0, 0, 0, 0, 0]), 28],
          // RFC9602
          segmentRouting: [new IPv6([24320, 0, 0, 0, 0, 0, 0, 0]), 16],
          reserved: [
            // RFC3849
            [new IPv6([8193, 0, 0, 0, 0, 0, 0, 0]), 23],
            // RFC2928
            [new IPv6([8193, 3512, 0, 0, 0, 0, 0, 0]), 32],
            // RFC9637
            [new IPv6([16383, 0, 0, 0, 0, 0, 0, 0]), 20]
          ]
        };
        IPv6.prototype.isIPv4MappedAddress = function() {
          return this.range() === "ipv4Mapped";
        };
        IPv6.prototype.kind = function() {
          return "ipv6";
        };
        IPv6.prototype.match = function(other, cidrRange) {
          let ref;
          if (cidrRange === void 0) {
            ref = other;
            other = ref[0];
            cidrRange = ref[1];
          }
          if (other.kind() !== "ipv6") {
            throw new Error("ipaddr: cannot match ipv6 address with non-ipv6 one");
          }
          return matchCIDR(this.parts, other.parts, 16, cidrRange);
        };
        IPv6.prototype.prefixLengthFromSubnetMask = function() {
          let cidr = 0;
          let stop = false;
          const zerotable = {
            0: 16,
            32768: 15,
            49152: 14,
            57344: 13,
            61440: 12,
            63488: 11,
            64512: 10,
            65024: 9,
            65280: 8,
            65408: 7,
            65472: 6,
            65504: 5,
            65520: 4,
            65528: 3,
            65532: 2,
            65534: 1,
            65535: 0
          };
          let part, zeros;
          for (let i = 7; i >= 0; i -= 1) {
            part = this.parts[i];
            if (part in zerotable) {
              zeros = zerotable[part];
              if (stop && zeros !== 0) {
                return null;
              }
              if (zeros !== 16) {
                stop = true;
              }
              cidr += zeros;
            } else {
              return null;
            }
          }
          return 128 - cidr;
        };
        IPv6.prototype.range = function() {
          return ipaddr3.subnetMatch(this, this.SpecialRanges);
        };
        IPv6.prototype.toByteArray = function() {
          let part;
          const bytes = [];
          const ref = this.parts;
          for (let i = 0; i < ref.length; i++) {
            part = ref[i];
            bytes.push(part >> 8);
            bytes.push(part & 255);
          }
          return bytes;
        };
        IPv6.prototype.toFixedLengthString = function() {
          const addr = (function() {
            const results = [];
            for (let i = 0; i < this.parts.length; i++) {
              results.push(padPart(this.parts[i].toString(16), 4));
            }
            return results;
          }).call(this).join(":");
          let suffix = "";
          if (this.zoneId) {
            suffix = `%${this.zoneId}`;
          }
          return addr + suffix;
        };
        IPv6.prototype.toIPv4Address = function() {
          if (!this.isIPv4MappedAddress()) {
            throw new Error("ipaddr: trying to convert a generic ipv6 address to ipv4");
          }
          const ref = this.parts.slice(-2);
          const high = ref[0];
          const low = ref[1];
          return new ipaddr3.IPv4([high >> 8, high & 255, low >> 8, low & 255]);
        };
        IPv6.prototype.toNormalizedString = function() {
          const addr = (function() {
            const results = [];
            for (let i = 0; i < this.parts.length; i++) {
              results.push(this.parts[i].toString(16));
            }
            return results;
          }).call(this).join(":");
          let suffix = "";
          if (this.zoneId) {
            suffix = `%${this.zoneId}`;
          }
          return addr + suffix;
        };
        IPv6.prototype.toRFC5952String = function() {
          const regex = /((^|:)(0(:|$)){2,})/g;
          let suffix = "";
          if (this.zoneId) {
            suffix = `%${this.zoneId}`;
          }
          const normalized = this.toNormalizedString();
          const string = normalized.slice(0, normalized.length - suffix.length);
          let bestMatchIndex = 0;
          let bestMatchLength = -1;
          let bestMatchGroups = -1;
          let match;
          while (match = regex.exec(string)) {
            const groups = (match[0].match(/0/g) || []).length;
            if (groups > bestMatchGroups) {
              bestMatchGroups = groups;
              bestMatchIndex = match.index;
              bestMatchLength = match[0].length;
            }
          }
          if (bestMatchLength < 0) {
            return string + suffix;
          }
          return `${string.substring(0, bestMatchIndex)}::${string.substring(bestMatchIndex + bestMatchLength)}${suffix}`;
        };
        IPv6.prototype.toString = function() {
          return this.toRFC5952String();
        };
        return IPv6;
      })();
      ipaddr3.IPv6.broadcastAddressFromCIDR = function(string) {
        try {
          const cidr = this.parseCIDR(string);
          const ipInterfaceOctets = cidr[0].toByteArray();
          const subnetMaskOctets = this.subnetMaskFromPrefixLength(cidr[1]).toByteArray();
          const octets = [];
          let i = 0;
          while (i < 16) {
            octets.push(parseInt(ipInterfaceOctets[i], 10) | parseInt(subnetMaskOctets[i], 10) ^ 255);
            i++;
          }
          return new this(octets);
        } catch (e) {
          throw new Error("ipaddr: the address does not have IPv6 CIDR format", { cause: e });
        }
      };
      ipaddr3.IPv6.isIPv6 = function(string) {
        return this.parser(string) !== null;
      };
      ipaddr3.IPv6.isValid = function(string) {
        if (typeof string === "string" && string.indexOf(":") === -1) {
          return false;
        }
        try {
          const addr = this.parser(string);
          new this(addr.parts, addr.zoneId);
          return true;
        } catch {
          return false;
        }
      };
      ipaddr3.IPv6.isValidCIDR = function(string) {
        if (typeof string === "string" && string.indexOf(":") === -1) {
          return false;
        }
        try {
          this.parseCIDR(string);
          return true;
        } catch {
          return false;
        }
      };
      ipaddr3.IPv6.networkAddressFromCIDR = function(string) {
        let cidr, i, ipInterfaceOctets, octets, subnetMaskOctets;
        try {
          cidr = this.parseCIDR(string);
          ipInterfaceOctets = cidr[0].toByteArray();
          subnetMaskOctets = this.subnetMaskFromPrefixLength(cidr[1]).toByteArray();
          octets = [];
          i = 0;
          while (i < 16) {
            octets.push(parseInt(ipInterfaceOctets[i], 10) & parseInt(subnetMaskOctets[i], 10));
            i++;
          }
          return new this(octets);
        } catch (e) {
          throw new Error("ipaddr: the address does not have IPv6 CIDR format", { cause: e });
        }
      };
      ipaddr3.IPv6.parse = function(string) {
        const addr = this.parser(string);
        if (addr === null) {
          throw new Error("ipaddr: string is not formatted like an IPv6 Address");
        }
        return new this(addr.parts, addr.zoneId);
      };
      ipaddr3.IPv6.parseCIDR = function(string) {
        let maskLength, match, parsed;
        if (match = string.match(/^(.+)\/(\d+)$/)) {
          maskLength = parseInt(match[2]);
          if (maskLength >= 0 && maskLength <= 128) {
            parsed = [this.parse(match[1]), maskLength];
            Object.defineProperty(parsed, "toString", {
              value: function() {
                return this.join("/");
              }
            });
            return parsed;
          }
        }
        throw new Error("ipaddr: string is not formatted like an IPv6 CIDR range");
      };
      ipaddr3.IPv6.parser = function(string) {
        let addr, i, match, octet, octets, zoneId;
        if (match = string.match(ipv6Regexes.deprecatedTransitional)) {
          return this.parser(`::ffff:${match[1]}`);
        }
        if (ipv6Regexes.native.test(string)) {
          return expandIPv6(string, 8);
        }
        if (match = string.match(ipv6Regexes.transitional)) {
          zoneId = match[6] || "";
          addr = match[1];
          if (!match[1].endsWith("::")) {
            addr = addr.slice(0, -1);
          }
          addr = expandIPv6(addr + zoneId, 6);
          if (addr && addr.parts) {
            octets = [
              parseInt(match[2]),
              parseInt(match[3]),
              parseInt(match[4]),
              parseInt(match[5])
            ];
            for (i = 0; i < octets.length; i++) {
              octet = octets[i];
              if (!(0 <= octet && octet <= 255)) {
                return null;
              }
            }
            addr.parts.push(octets[0] << 8 | octets[1]);
            addr.parts.push(octets[2] << 8 | octets[3]);
            return {
              parts: addr.parts,
              zoneId: addr.zoneId
            };
          }
        }
        return null;
      };
      ipaddr3.IPv6.subnetMaskFromPrefixLength = function(prefix) {
        prefix = parseInt(prefix);
        if (Number.isNaN(prefix) || prefix < 0 || prefix > 128) {
          throw new Error("ipaddr: invalid IPv6 prefix length");
        }
        const octets = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let j = 0;
        const filledOctetCount = Math.floor(prefix / 8);
        while (j < filledOctetCount) {
          octets[j] = 255;
          j++;
        }
        if (filledOctetCount < 16) {
          octets[filledOctetCount] = Math.pow(2, prefix % 8) - 1 << 8 - prefix % 8;
        }
        return new this(octets);
      };
      ipaddr3.fromByteArray = function(bytes) {
        const length = bytes.length;
        if (length === 4) {
          return new ipaddr3.IPv4(bytes);
        } else if (length === 16) {
          return new ipaddr3.IPv6(bytes);
        } else {
          throw new Error("ipaddr: the binary input is neither an IPv6 nor IPv4 address");
        }
      };
      ipaddr3.isValid = function(string) {
        return ipaddr3.IPv6.isValid(string) || ipaddr3.IPv4.isValid(string);
      };
      ipaddr3.isValidCIDR = function(string) {
        return ipaddr3.IPv6.isValidCIDR(string) || ipaddr3.IPv4.isValidCIDR(string);
      };
      ipaddr3.parse = function(string) {
        if (ipaddr3.IPv6.isValid(string)) {
          return ipaddr3.IPv6.parse(string);
        } else if (ipaddr3.IPv4.isValid(string)) {
          return ipaddr3.IPv4.parse(string);
        } else {
          throw new Error("ipaddr: the address has neither IPv6 nor IPv4 format");
        }
      };
      ipaddr3.parseCIDR = function(string) {
        try {
          return ipaddr3.IPv6.parseCIDR(string);
        } catch {
          try {
            return ipaddr3.IPv4.parseCIDR(string);
          } catch (e) {
            throw new Error("ipaddr: the address has neither IPv6 nor IPv4 CIDR format", { cause: e });
          }
        }
      };
      ipaddr3.process = function(string) {
        const addr = this.parse(string);
        if (addr.kind() === "ipv6" && addr.isIPv4MappedAddress()) {
          return addr.toIPv4Address();
        } else {
          return addr;
        }
      };
      ipaddr3.subnetMatch = function(address, rangeList, defaultName) {
        let i, rangeName, rangeSubnets, subnet;
        if (defaultName === void 0 || defaultName === null) {
          defaultName = "unicast";
        }
        for (rangeName in rangeList) {
          if (Object.prototype.hasOwnProperty.call(rangeList, rangeName)) {
            rangeSubnets = rangeList[rangeName];
            if (rangeSubnets[0] && !(rangeSubnets[0] instanceof Array)) {
              rangeSubnets = [rangeSubnets];
            }
            for (i = 0; i < rangeSubnets.length; i++) {
              subnet = rangeSubnets[i];
              if (address.kind() === subnet[0].kind() && address.match.apply(address, subnet)) {
                return rangeName;
              }
            }
          }
        }
        return defaultName;
      };
      if (typeof module !== "undefined" && module.exports) {
        module.exports = ipaddr3;
      } else {
        root.ipaddr = ipaddr3;
      }
    })(exports);
  }
});

// node_modules/shell-quote/quote.js
var require_quote = __commonJS({
  "node_modules/shell-quote/quote.js"(exports, module) {
    "use strict";
    var OPS = (
      /** @type {const} */
      [
        "||",
        "&&",
        ";;&",
        ";;",
        ";&",
        "|&",
        "<(",
        ">(",
        "<<<",
        "<<-",
        "<<",
        ">>",
        ">&",
        ">|",
        "&>>",
        "&>",
        "<&",
        "<>",
        "&",
        ";",
        "(",
        ")",
        "|",
        "<",
        ">"
      ]
    );
    var LINE_TERMINATORS = /[\n\r\u2028\u2029]/;
    var GLOB_SHELL_SPECIAL = /[\s#!"$&'():;<=>@\\^`|~]/g;
    module.exports = function quote2(xs) {
      var sawComment = false;
      return xs.map(function(s) {
        if (sawComment && typeof s === "string" && LINE_TERMINATORS.test(s)) {
          throw new TypeError("a token after a `comment` must not contain line terminators");
        }
        if (s === "") {
          return (
            /** @type {const} */
            "''"
          );
        }
        if (s && typeof s === "object") {
          if ("op" in s && s.op === "glob") {
            if (typeof s.pattern !== "string") {
              throw new TypeError("glob token requires a string `pattern`");
            }
            if (LINE_TERMINATORS.test(s.pattern)) {
              throw new TypeError("glob `pattern` must not contain line terminators");
            }
            if (s.pattern === "") {
              return (
                /** @type {const} */
                "''"
              );
            }
            return s.pattern.replace(GLOB_SHELL_SPECIAL, "\\$&");
          }
          if ("op" in s && typeof s.op === "string") {
            if (OPS.indexOf(s.op) < 0) {
              throw new TypeError("invalid `op` value: " + JSON.stringify(s.op));
            }
            return s.op.replace(/[\s\S]/g, "\\$&");
          }
          if ("comment" in s && typeof s.comment === "string") {
            if (LINE_TERMINATORS.test(s.comment)) {
              throw new TypeError("`comment` must not contain line terminators");
            }
            sawComment = true;
            return "#" + s.comment;
          }
          throw new TypeError("unrecognized object token shape");
        }
        if (/'/.test(s) && /!/.test(s)) {
          return "'" + s.replace(/'/g, `'"'"'`) + "'";
        }
        if (/["\s\\]/.test(s) && !/'/.test(s)) {
          return "'" + s + "'";
        }
        if (/["'\s]/.test(s)) {
          return '"' + s.replace(/(["\\$`])/g, "\\$1") + '"';
        }
        return String(s).replace(/([A-Za-z]:)?([#!"$&'()*,:;<=>?@[\\\]^`{|}~])/g, "$1\\$2");
      }).join(" ");
    };
  }
});

// node_modules/shell-quote/parse.js
var require_parse = __commonJS({
  "node_modules/shell-quote/parse.js"(exports, module) {
    "use strict";
    var CONTROL = (
      /** @type {const} */
      "(?:" + /** @type {const} */
      [
        "\\|\\|",
        "\\&(?:\\&|>>?)",
        // `&&`, `&>`, and `&>>`
        ";;\\&?",
        // `;;` and `;;&`
        "[;|]\\&",
        // `;&` and `|&`
        "\\<\\(",
        "\\<\\<\\<",
        "\\<\\<-",
        "\\<\\<(?!\\()",
        // `<<(` stays `<` and `<(`, as zsh reads it; other shells reject it
        ">>",
        ">[&|(]",
        // `>&`, `>|`, and `>(`
        "<[&>]",
        // `<&` and `<>`
        "[&;()|<>]"
      ].join(
        /** @type {const} */
        "|"
      ) + /** @type {const} */
      ")"
    );
    var controlRE = new RegExp("^" + CONTROL + "$");
    var META = (
      /** @type {const} */
      "|&;()<> \\t"
    );
    var SINGLE_QUOTE = (
      /** @type {const} */
      "'([^']*?)'"
    );
    var ANSI_C_BODY = "(?:\\\\[\\s\\S]|[^\\\\'])*?";
    var ANSI_C_QUOTE = "\\$'" + ANSI_C_BODY + "'";
    var ansiCAt = new RegExp("\\$'" + ANSI_C_BODY + "(?:(')|\\\\?$)", "g");
    var ANSI_C_LETTERS = "abeEfnrtv";
    var ANSI_C_CHARS = "\x07\b\x1B\x1B\f\n\r	\v";
    var hash = /^#$/;
    var SQ = (
      /** @type {const} */
      "'"
    );
    var DQ = (
      /** @type {const} */
      '"'
    );
    var DS = (
      /** @type {const} */
      "$"
    );
    var TOKEN = "";
    var mult = (
      /** @type {const} */
      4294967296
    );
    for (i = 0; i < 4; i++) {
      TOKEN += (mult * Math.random()).toString(16);
    }
    var i;
    var startsWithToken = new RegExp("^" + TOKEN);
    function matchAll(s, r) {
      var origIndex = r.lastIndex;
      var matches = [];
      var matchObj;
      while (matchObj = r.exec(s)) {
        matches[matches.length] = matchObj;
        if (r.lastIndex === matchObj.index) {
          r.lastIndex += 1;
        }
      }
      r.lastIndex = origIndex;
      return matches;
    }
    function getVar(env, pre, key) {
      var r = typeof env === "function" ? env(key) : env[key];
      if (typeof r === "undefined" && key != "") {
        r = "";
      } else if (typeof r === "undefined") {
        r = "$";
      }
      if (typeof r === "object") {
        return pre + TOKEN + JSON.stringify(r) + TOKEN;
      }
      return pre + r;
    }
    var ansiCEscape = /\\([0-7]{1,3}|x[\dA-Fa-f]{1,2}|u[\dA-Fa-f]{1,4}|U[\dA-Fa-f]{1,8}|c(?:\\\\|[\s\S])|[abeEfnrtv\\'"?])/g;
    function expandAnsiCEscape(m, escape) {
      var kind = escape.charAt(0);
      if (kind === "c") {
        var ctrl = escape.charAt(1);
        return ctrl === "?" ? "\x7F" : String.fromCharCode(ctrl.charCodeAt(0) & 31);
      }
      if (kind === "x" || kind === "u" || kind === "U") {
        var cp = parseInt(escape.slice(1), 16);
        if (cp > 1114111) {
          return m;
        }
        return String.fromCharCode.apply(null, cp > 65535 ? [55232 + (cp >> 10), 56320 + (cp & 1023)] : [cp]);
      }
      if (kind >= "0" && kind <= "7") {
        return String.fromCharCode(parseInt(escape, 8) & 255);
      }
      var letter = ANSI_C_LETTERS.indexOf(escape);
      return letter < 0 ? escape : ANSI_C_CHARS.charAt(letter);
    }
    function expandAnsiC(body) {
      return body.replace(ansiCEscape, expandAnsiCEscape).split("\0")[0];
    }
    function closesAnsiC(s, i2) {
      ansiCAt.lastIndex = i2;
      return !!/** @type {RegExpExecArray} */
      ansiCAt.exec(s)[1];
    }
    function parseInternal(string, env, opts) {
      if (!opts) {
        opts = {};
      }
      var BS = opts.escape || "\\";
      var ifs = opts.splitUnquoted === true ? " 	\n" : typeof opts.splitUnquoted === "string" ? opts.splitUnquoted : "";
      var BAREWORD = "(\\" + BS + `['"$\\` + BS + META + "]|\\$\\$|\\$(?!" + ANSI_C_QUOTE.slice(2) + `)|[^\\s'"$` + META + "])+";
      var DOUBLE_QUOTE = '"(?:\\' + BS + '[\\s\\S]|[^"\\' + BS + '])*"';
      var chunker = new RegExp([
        "(" + CONTROL + ")",
        // control chars
        "(" + ANSI_C_QUOTE + "|" + BAREWORD + "|" + DOUBLE_QUOTE + "|" + SINGLE_QUOTE + ")+"
      ].join("|"), "g");
      var matches = matchAll(string, chunker);
      if (matches.length === 0) {
        return [];
      }
      if (!env) {
        env = {};
      }
      var commented = false;
      return matches.map(function(match) {
        var s = match[0];
        if (!s || commented) {
          return void 0;
        }
        if (controlRE.test(s)) {
          return (
            /** @type {ControlOperator} */
            { op: s }
          );
        }
        var quote2 = false;
        var esc = false;
        var out = "";
        var words = [];
        var sawQuote = false;
        var pendingNw = null;
        var isGlob = false;
        var i2;
        function parseEnvVar() {
          i2 += 1;
          var varend;
          var varname;
          var char = s.charAt(i2);
          if (char === "{") {
            i2 += 1;
            if (s.charAt(i2) === "}") {
              throw new Error("Bad substitution: " + s.slice(i2 - 2, i2 + 1));
            }
            var depth = 1;
            varend = i2;
            while (depth > 0 && varend < s.length) {
              if (s.charAt(varend) === "{" && s.charAt(varend - 1) === "$") {
                depth += 1;
              } else if (s.charAt(varend) === "}") {
                depth -= 1;
              }
              varend += 1;
            }
            if (depth !== 0) {
              throw new Error("Bad substitution: " + s.slice(i2));
            }
            varend -= 1;
            varname = s.slice(i2, varend);
            i2 = varend;
          } else if (/[*@#?$!-]/.test(char)) {
            varname = char;
          } else {
            var slicedFromI = s.slice(i2);
            varend = slicedFromI.match(/[^\w\d_]/);
            if (!varend) {
              varname = slicedFromI;
              i2 = s.length;
            } else {
              varname = slicedFromI.slice(0, varend.index);
              i2 += /** @type {number} */
              varend.index - 1;
            }
          }
          return getVar(
            /** @type {NonNullable<typeof env>} */
            env,
            "",
            varname
          );
        }
        function flushRun() {
          if (pendingNw === null) {
            return;
          }
          if (pendingNw === 0) {
            if (out !== "") {
              words[words.length] = out;
              out = "";
            }
          } else {
            words[words.length] = out;
            out = "";
            for (var fe = 1; fe < pendingNw; fe += 1) {
              words[words.length] = "";
            }
          }
          pendingNw = null;
        }
        for (i2 = 0; i2 < s.length; i2++) {
          var c = s.charAt(i2);
          if (ifs && c !== DS) {
            flushRun();
          }
          isGlob = isGlob || !quote2 && (c === "*" || c === "?");
          if (esc) {
            out += c;
            esc = false;
          } else if (quote2) {
            if (c === quote2) {
              quote2 = false;
            } else if (quote2 == SQ) {
              out += c;
            } else {
              if (c === BS) {
                i2 += 1;
                c = s.charAt(i2);
                if (c === DQ || c === BS || c === DS) {
                  out += c;
                } else {
                  out += BS + c;
                }
              } else if (c === DS) {
                out += parseEnvVar();
              } else {
                out += c;
              }
            }
          } else if (c === DQ || c === SQ) {
            quote2 = c;
            sawQuote = true;
          } else if (controlRE.test(c)) {
            return (
              /** @type {ControlOperator} */
              { op: s }
            );
          } else if (hash.test(c)) {
            commented = true;
            var commentObj = { comment: string.slice(match.index + i2 + 1) };
            if (out.length) {
              return (
                /** @type {const} */
                [out, commentObj]
              );
            }
            return (
              /** @type {const} */
              [commentObj]
            );
          } else if (c === BS) {
            esc = true;
          } else if (c === DS && s.charAt(i2 + 1) === SQ && closesAnsiC(s, i2)) {
            flushRun();
            sawQuote = true;
            out += expandAnsiC(s.slice(i2 + 2, ansiCAt.lastIndex - 1));
            i2 = ansiCAt.lastIndex - 1;
          } else if (c === DS) {
            var value = parseEnvVar();
            if (!ifs) {
              out += value;
            } else {
              for (var vi = 0; vi < value.length; vi += 1) {
                var vc = value.charAt(vi);
                if (ifs.indexOf(vc) < 0) {
                  flushRun();
                  out += vc;
                } else if (pendingNw === null) {
                  pendingNw = vc === " " || vc === "	" || vc === "\n" ? 0 : 1;
                } else if (vc !== " " && vc !== "	" && vc !== "\n") {
                  pendingNw += 1;
                }
              }
            }
          } else {
            out += c;
          }
        }
        if (isGlob) {
          return (
            /** @type {GlobPattern} */
            { op: "glob", pattern: out }
          );
        }
        if (ifs) {
          if (pendingNw !== null && pendingNw > 0) {
            words[words.length] = out;
            out = "";
            for (var te = 1; te < pendingNw; te += 1) {
              words[words.length] = "";
            }
          }
          if (out !== "" || sawQuote && words.length === 0) {
            words[words.length] = out;
          }
          return words;
        }
        return out;
      }).reduce(
        function(prev, arg) {
          if (typeof arg === "undefined") {
            return prev;
          }
          [].concat(arg).forEach(function(entry) {
            prev[prev.length] = entry;
          });
          return prev;
        },
        /** @type {ParseEntry[]} */
        []
      );
    }
    module.exports = function parse(s, env, opts) {
      var mapped = parseInternal(s, env, opts);
      if (typeof env !== "function") {
        return mapped;
      }
      return mapped.reduce(
        function(acc, s2) {
          if (typeof s2 === "object") {
            acc[acc.length] = s2;
            return acc;
          }
          var xs = s2.split(RegExp("(" + TOKEN + ".*?" + TOKEN + ")", "g"));
          if (xs.length === 1) {
            acc[acc.length] = xs[0];
            return acc;
          }
          xs.filter(Boolean).forEach(function(x) {
            acc[acc.length] = startsWithToken.test(x) ? JSON.parse(x.split(TOKEN)[1]) : x;
          });
          return acc;
        },
        /** @type {ParseEntry[]} */
        []
      );
    };
  }
});

// node_modules/shell-quote/index.js
var require_shell_quote = __commonJS({
  "node_modules/shell-quote/index.js"(exports) {
    "use strict";
    exports.quote = require_quote();
    exports.parse = require_parse();
  }
});

// src/kubernetes/pod.ts
var import_ipaddr2 = __toESM(require_ipaddr(), 1);

// src/docker/args.ts
var LABEL = "buildfence";
var LABEL_RUN = "buildfence.run";
var LABEL_PID = "buildfence.pid";
var LABEL_HOST = "buildfence.host";
var SCRIPT_MOUNT = "/__buildfence";
var RULES_MOUNT = "/__buildfence";
function resourceNames(runId) {
  return {
    holder: `buildfence-${runId}-holder`,
    build: `buildfence-${runId}-build`
  };
}
function labels(id) {
  return { [LABEL]: "1", [LABEL_RUN]: id.runId, [LABEL_PID]: String(id.pid), [LABEL_HOST]: id.host };
}
function labelArgs(id) {
  return Object.entries(labels(id)).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
}
function holderConfig(a) {
  return {
    Image: a.image,
    Entrypoint: a.command.entrypoint,
    Cmd: a.command.cmd,
    Labels: labels(a.id),
    HostConfig: {
      NetworkMode: a.network,
      // NET_ADMIN for iptables, ipset and the NFLOG reader; NET_RAW because iptables' set match asks
      // ipset for set names over a raw socket; SETUID and SETGID because tcpdump (the reader) drops
      // to its own user. Nothing else. The build shares the namespace, not these capabilities.
      CapDrop: ["ALL"],
      CapAdd: ["NET_ADMIN", "NET_RAW", "SETUID", "SETGID"],
      SecurityOpt: ["no-new-privileges"],
      Binds: [`${a.rulesDir}:${RULES_MOUNT}:ro`]
    }
  };
}
function buildCreateArgs(a) {
  const names = resourceNames(a.id.runId);
  const script = `${SCRIPT_MOUNT}/${a.scriptName}`;
  const [shell, ...shellArgs] = shellCommand(a.spec.shell, script);
  return [
    "create",
    "--name",
    names.build,
    ...labelArgs(a.id),
    "--pull",
    a.spec.pull,
    "--volume",
    `${a.spec.workspace}:${a.spec.workspace}`,
    "--volume",
    `${a.scriptDir}:${SCRIPT_MOUNT}:ro`,
    "--workdir",
    a.spec.workingDirectory,
    ...a.passedEnv.flatMap((name) => ["--env", name]),
    "--env-file",
    a.envFile,
    // The user's options come first so that the fence's own flags below always have the last word.
    ...a.spec.dockerOptions,
    "--network",
    `container:${names.holder}`,
    "--cap-drop",
    "NET_ADMIN",
    "--cap-drop",
    "NET_RAW",
    "--security-opt",
    "no-new-privileges",
    "--entrypoint",
    shell,
    a.spec.image,
    ...shellArgs
  ];
}
function shellCommand(shell, script) {
  return shell.includes("{0}") ? shell.map((w) => w.replaceAll("{0}", script)) : [...shell, script];
}
function runnerEnvNames(env) {
  return Object.keys(env).filter((k) => /^(GITHUB|RUNNER)_/.test(k)).sort();
}

// src/firewall/load.ts
var import_shell_quote = __toESM(require_shell_quote(), 1);
import * as fs from "node:fs/promises";
import * as path from "node:path";

// src/docker/cli.ts
import { spawn } from "node:child_process";
var DOCKER_TIMEOUT_MS = 6e4;
var DockerError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "DockerError";
  }
};
function docker(args, options = {}) {
  const timeoutMs = options.timeoutMs ?? DOCKER_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, { stdio: ["ignore", "pipe", "pipe"] });
    const out = [];
    const err = [];
    child.stdout.on("data", (d) => options.onStdout ? options.onStdout(d) : out.push(d));
    child.stderr.on("data", (d) => options.onStderr ? options.onStderr(d) : err.push(d));
    const timer = timeoutMs > 0 ? setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new DockerError(
          `docker ${args[0]} did not answer within ${timeoutMs / 1e3} s: is the Docker engine hung? Check it, or DOCKER_HOST.`
        )
      );
    }, timeoutMs) : void 0;
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new DockerError(`Cannot run the docker CLI (${e.message}). Install Docker and make sure \`docker\` is on PATH.`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}
function lastLine(text) {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !/^(See|Run) 'docker [^']*--help'/.test(l));
  return lines[lines.length - 1] ?? "";
}

// src/firewall/ruleset.ts
var import_ipaddr = __toESM(require_ipaddr(), 1);
var GUARDED = {
  // Link-local (cloud metadata at 169.254.169.254) and Azure's wire server.
  4: ["169.254.0.0/16", "168.63.129.16/32"],
  // Link-local and AWS's IPv6 metadata endpoint.
  6: ["fe80::/10", "fd00:ec2::254/128"]
};
var NFLOG_GROUP = { denied: 5, audit: 6, mark: 7 };
var DOCKER_DNS = "127.0.0.11/32";
var MAX_ELEMENTS_FLOOR = 65536;
function setName(family, kind, prefix = "") {
  return `bf${family}-${prefix}${kind}`;
}
function rangeSetName(family, proto, ports, prefix = "") {
  return `bf${family}-${prefix}${proto}-${ports.from}-${ports.to}`;
}
function renderRuleset(input) {
  const of = (entries, f) => entries.filter((e) => e.kind === "address" && e.family === f);
  const names = input.allow.filter((e) => e.kind === "name");
  const kind = (f) => f === 4 ? "ipv4" : "ipv6";
  const networkGuards = (f) => [
    ...input.gateways.filter((g) => import_ipaddr.default.parse(g).kind() === kind(f)).map((g) => hostCidr(g)),
    ...(input.guardedNetworks ?? []).filter((n) => import_ipaddr.default.parseCIDR(n)[0].kind() === kind(f))
  ];
  const sets = (f) => [...setContents(of(input.allow, f), f, "", names), ...setContents(of(input.deny, f), f, "deny-")];
  const [sets4, sets6] = [sets(4), sets(6)];
  return {
    ipset: renderIpset([...sets4, ...sets6]),
    v4: renderFilter(4, input, of(input.allow, 4), sets4, networkGuards(4)),
    v6: renderFilter(6, input, of(input.allow, 6), sets6, networkGuards(6)),
    nat4: renderNat(input.resolver, input.resolverUser?.uid),
    resolvConf: `nameserver ${input.resolver.address}
options ndots:0
`
  };
}
function staticMembers(rules) {
  const members = /* @__PURE__ */ new Set();
  for (const line of rules.ipset.split("\n")) {
    const [verb, set, element] = line.split(" ");
    if (verb === "add") members.add(`${set} ${element}`);
  }
  return members;
}
function setContents(entries, family, prefix, names = []) {
  const sets = /* @__PURE__ */ new Map();
  const add = (name, type, range) => sets.set(name, { name, type, family, prefix, ...range ? { range } : {}, elements: [] });
  for (const kind of ["tcp", "udp", "port"]) add(setName(family, kind, prefix), kind === "port" ? "hash:net,port" : "hash:net");
  for (const r of portRanges([...entries, ...names])) add(rangeSetName(family, r.proto, r.ports, prefix), "hash:net", r);
  for (const e of entries) {
    for (const net of splitForHashNet(e.cidr)) {
      for (const m of setMembers(family, net, e.protocols, e.ports, prefix)) sets.get(m.set).elements.push(m.element);
    }
  }
  return [...sets.values()].map((s) => ({ ...s, elements: unique(s.elements) }));
}
function portRanges(entries) {
  const seen = /* @__PURE__ */ new Map();
  for (const e of entries) {
    if (!e.ports || e.ports.from === e.ports.to) continue;
    for (const proto of e.protocols) seen.set(`${proto} ${e.ports.from} ${e.ports.to}`, { proto, ports: e.ports });
  }
  return [...seen.values()];
}
function setMembers(family, net, protocols, ports, prefix = "") {
  return protocols.map((proto) => {
    if (!ports) return { kind: proto, set: setName(family, proto, prefix), element: net };
    if (ports.from === ports.to) return { kind: "port", set: setName(family, "port", prefix), element: `${net},${proto}:${ports.from}` };
    return { kind: "range", set: rangeSetName(family, proto, ports, prefix), element: net };
  });
}
function splitForHashNet(cidr) {
  if (cidr === "0.0.0.0/0") return ["0.0.0.0/1", "128.0.0.0/1"];
  if (cidr === "::/0") return ["::/1", "8000::/1"];
  return [cidr];
}
function renderIpset(sets) {
  const lines = [];
  for (const s of sets) {
    const max = Math.max(MAX_ELEMENTS_FLOOR, s.elements.length * 2);
    lines.push(`create ${s.name} ${s.type} family ${s.family === 4 ? "inet" : "inet6"} timeout 0 maxelem ${max}`);
  }
  for (const s of sets) for (const el of s.elements) lines.push(`add ${s.name} ${el} timeout 0`);
  return lines.join("\n") + "\n";
}
function renderFilter(family, input, allow, ipsets, networkGuards) {
  const rejectIcmp = family === 4 ? "icmp-port-unreachable" : "icmp6-port-unreachable";
  const out = (rule) => `-A OUTPUT ${rule}`;
  const sets = (prefix, target) => [
    out(`-p tcp -m set --match-set ${setName(family, "tcp", prefix)} dst -j ${target}`),
    out(`-p udp -m set --match-set ${setName(family, "udp", prefix)} dst -j ${target}`),
    out(`-m set --match-set ${setName(family, "port", prefix)} dst,dst -j ${target}`),
    ...ipsets.filter((s) => s.prefix === prefix && s.range !== void 0).map(
      ({ name, range: { proto, ports } }) => out(`-p ${proto} -m ${proto} --dport ${ports.from}:${ports.to} -m set --match-set ${name} dst -j ${target}`)
    )
  ];
  const rules = [];
  if (family === 4 && input.drainMark) {
    const mark = `-A INPUT -s ${hostCidr(input.drainMark.from)} -i eth0 -p udp -m udp --dport ${input.drainMark.port}`;
    rules.push(`${mark} -j NFLOG --nflog-prefix bf-mark --nflog-group ${NFLOG_GROUP.mark} --nflog-threshold 1`, `${mark} -j DROP`);
  }
  rules.push(out("-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"));
  if (family === 4) rules.push(out(`-d ${DOCKER_DNS} -j BF-REJECT`));
  rules.push(out("-o lo -j ACCEPT"));
  for (const u of input.resolverUser?.upstreams ?? []) {
    if (import_ipaddr.default.parse(u.address).kind() !== (family === 4 ? "ipv4" : "ipv6")) continue;
    for (const proto of ["udp", "tcp"]) {
      rules.push(
        out(
          `-d ${hostCidr(u.address)} -p ${proto} -m owner --uid-owner ${input.resolverUser.uid} -m ${proto} --dport ${u.port} -j ACCEPT`
        )
      );
    }
  }
  if (family === 4) {
    const r = `-d ${input.resolver.address}/32`;
    rules.push(out(`${r} -p udp -m udp --dport ${input.resolver.port} -j ACCEPT`));
    rules.push(out(`${r} -p tcp -m tcp --dport ${input.resolver.port} -j ACCEPT`));
  } else {
    for (const type of [133, 135, 136]) {
      rules.push(out(`-p ipv6-icmp -m icmp6 --icmpv6-type ${type} -m hl --hl-eq 255 -j ACCEPT`));
    }
    rules.push(out("-d ff02::16/128 -p ipv6-icmp -m icmp6 --icmpv6-type 143 -m hl --hl-eq 1 -j ACCEPT"));
    rules.push(out("-p udp -m udp --dport 53 -j BF-REJECT"));
    rules.push(out("-p tcp -m tcp --dport 53 -j BF-REJECT"));
  }
  const guarded = unique([...GUARDED[family], ...networkGuards]);
  for (const g of guarded) rules.push(out(`-d ${g} -j BF-GUARD`));
  rules.push(...sets("deny-", "BF-DENY"), ...sets("", "ACCEPT"));
  rules.push(out("-p tcp -m tcp --dport 853 -j BF-REJECT"));
  rules.push(out("-j BF-DENY"));
  if (input.mode === "block") rules.push("-A BF-DENY -j BF-REJECT");
  else
    rules.push(
      `-A BF-DENY -j NFLOG --nflog-prefix bf-audit --nflog-group ${NFLOG_GROUP.audit} --nflog-threshold 1`,
      "-A BF-DENY -j ACCEPT"
    );
  const guardedRanges = guarded.map((g) => import_ipaddr.default.parseCIDR(g));
  for (const e of allow.filter((x) => namesGuardedHost(x, guardedRanges))) {
    for (const proto of e.protocols) rules.push(`-A BF-GUARD -d ${e.cidr} ${protoMatch(proto, e)}-j ACCEPT`);
  }
  rules.push("-A BF-GUARD -j BF-REJECT");
  rules.push(`-A BF-REJECT -j NFLOG --nflog-prefix bf-deny --nflog-group ${NFLOG_GROUP.denied} --nflog-threshold 1`);
  rules.push("-A BF-REJECT -p tcp -j REJECT --reject-with tcp-reset");
  rules.push(`-A BF-REJECT -j REJECT --reject-with ${rejectIcmp}`);
  return [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD DROP [0:0]",
    ":OUTPUT DROP [0:0]",
    ":BF-DENY - [0:0]",
    ":BF-GUARD - [0:0]",
    ":BF-REJECT - [0:0]",
    ...rules,
    "COMMIT",
    ""
  ].join("\n");
}
var NAT_CHAIN = "BF-DNS";
function renderNat(resolver, resolverUid) {
  const to = `--to-destination ${resolver.address}:${resolver.port}`;
  return [
    "*nat",
    `:${NAT_CHAIN} - [0:0]`,
    `-I OUTPUT 1 -j ${NAT_CHAIN}`,
    `-A ${NAT_CHAIN} -d 127.0.0.0/8 -j RETURN`,
    // The resolver's own queries go to the upstream, not back to itself.
    ...resolverUid === void 0 ? [] : [`-A ${NAT_CHAIN} -m owner --uid-owner ${resolverUid} -j RETURN`],
    `-A ${NAT_CHAIN} -p udp -m udp --dport 53 -j DNAT ${to}`,
    `-A ${NAT_CHAIN} -p tcp -m tcp --dport 53 -j DNAT ${to}`,
    "COMMIT",
    ""
  ].join("\n");
}
function namesGuardedHost(e, guarded) {
  const slash = e.cidr.indexOf("/");
  if (e.cidr.slice(slash + 1) !== (e.family === 4 ? "32" : "128")) return false;
  const addr = e.family === 4 ? import_ipaddr.default.IPv4.parse(e.cidr.slice(0, slash)) : import_ipaddr.default.IPv6.parse(e.cidr.slice(0, slash));
  return guarded.some((range) => addr.kind() === range[0].kind() && addr.match(range));
}
function protoMatch(proto, e) {
  if (!e.ports) return `-p ${proto} `;
  const ports = e.ports.from === e.ports.to ? `${e.ports.from}` : `${e.ports.from}:${e.ports.to}`;
  return `-p ${proto} -m ${proto} --dport ${ports} `;
}
function hostCidr(address) {
  const a = import_ipaddr.default.parse(address);
  return `${a.toString()}/${a.kind() === "ipv4" ? 32 : 128}`;
}
function unique(xs) {
  return [...new Set(xs)];
}

// src/firewall/verify.ts
function compareRules(expected, saved) {
  return [
    ...diffLines("iptables (IPv4)", normalizeFilter(expected.v4), normalizeFilter(saved.v4), true),
    ...diffLines("ip6tables (IPv6)", normalizeFilter(expected.v6), normalizeFilter(saved.v6), true),
    ...diffLines("ipset", normalizeIpset(expected.ipset), normalizeIpset(saved.ipset), false),
    ...diffLines("iptables nat (IPv4)", ourNat(normalizeFilter(expected.nat4)), ourNat(normalizeFilter(saved.nat4)), true),
    ...diffLines("resolv.conf", expected.resolvConf.split("\n"), saved.resolvConf.split("\n"), true)
  ];
}
function ourNat(lines) {
  const firstOutput = lines.find((l) => l.startsWith("-A OUTPUT ") || l.startsWith("-I OUTPUT "));
  return [
    ...lines.filter((l) => l.startsWith(`:${NAT_CHAIN} `)),
    `first OUTPUT rule: ${firstOutput?.replace(/^-I OUTPUT 1 /, "-A OUTPUT ") ?? "none"}`,
    ...lines.filter((l) => l.startsWith(`-A ${NAT_CHAIN} `))
  ];
}
function normalizeFilter(text) {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")).map((l) => l.startsWith(":") ? l.replace(/\s+\[\d+:\d+\]$/, "") : l);
}
function normalizeIpset(text) {
  const creates = [];
  const adds = [];
  for (const raw of text.split("\n")) {
    const words = raw.trim().split(/\s+/);
    if (words[0] === "create") creates.push(words.slice(0, 5).join(" "));
    if (words[0] === "add") adds.push(`add ${words[1]} ${hostWithoutPrefix(words[2] ?? "")}`);
  }
  return [...creates.sort(), ...adds.sort()];
}
function hostWithoutPrefix(element) {
  return element.replace(/\/(32|128)(?=,|$)/, "");
}
function diffLines(what, expected, actual, ordered) {
  const diffs = [];
  if (ordered) {
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; i++) {
      if (expected[i] !== actual[i]) {
        diffs.push(`${what} line ${i + 1}: expected ${show(expected[i])}, found ${show(actual[i])}`);
      }
    }
    return diffs;
  }
  const have = new Set(actual);
  const want = new Set(expected);
  for (const l of expected) if (!have.has(l)) diffs.push(`${what}: missing ${l}`);
  for (const l of actual) if (!want.has(l)) diffs.push(`${what}: unexpected ${l}`);
  return diffs;
}
function show(line) {
  return line === void 0 ? "nothing" : `'${line}'`;
}

// src/firewall/load.ts
var RULE_FILES = { ipset: "rules.ipset", v4: "rules.v4", v6: "rules.v6", resolvConf: "resolv.conf" };
var MARK = "---buildfence-readback---";
var LOADING_MARK = "---buildfence-loading---";
var LOADED_MARK = "---buildfence-loaded---";
var TOOLS_CHECK = [
  "set -e",
  "for tool in ipset iptables-restore ip6tables-restore iptables-save ip6tables-save; do",
  '  command -v "$tool" >/dev/null 2>&1 || { echo "the holder image has no $tool" >&2; exit 127; }',
  "done"
];
var LOAD_AND_READ_BACK = [
  `ipset restore < ${RULES_MOUNT}/${RULE_FILES.ipset}`,
  `iptables-restore --noflush < ${RULES_MOUNT}/${RULE_FILES.v4}`,
  `ip6tables-restore < ${RULES_MOUNT}/${RULE_FILES.v6}`,
  `cat ${RULES_MOUNT}/${RULE_FILES.resolvConf} > /etc/resolv.conf`,
  `echo ${MARK}; ipset save`,
  `echo ${MARK}; iptables-save -t filter`,
  `echo ${MARK}; ip6tables-save -t filter`,
  `echo ${MARK}; iptables-save -t nat`,
  `echo ${MARK}; cat /etc/resolv.conf`
];
var LOAD_SCRIPT = [...TOOLS_CHECK, ...LOAD_AND_READ_BACK].join("\n");
var READER_FIFO = "/tmp/buildfence-reader";
function holderScript(reader) {
  return [
    `echo ${LOADING_MARK}`,
    ...TOOLS_CHECK,
    `mkfifo ${READER_FIFO}`,
    `exec 3<>${READER_FIFO}`,
    `${(0, import_shell_quote.quote)(reader)} > ${READER_FIFO} &`,
    ...LOAD_AND_READ_BACK,
    `echo ${LOADED_MARK}`,
    `exec cat < ${READER_FIFO} 3<&-`
  ].join("\n");
}
var FenceError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "FenceError";
  }
};
async function writeRuleFiles(dir, rules) {
  const files = {
    ipset: rules.ipset,
    v4: rules.v4 + rules.nat4,
    v6: rules.v6,
    resolvConf: rules.resolvConf
  };
  await Promise.all(
    Object.keys(files).map(
      (k) => fs.writeFile(path.join(dir, RULE_FILES[k]), files[k], { mode: 420 })
    )
  );
}
function loadFailure(holderImage, stderr, exitCode) {
  const said = lastLine(
    stderr.split("\n").filter((l) => !/^(tcpdump: |listening on )/.test(l)).join("\n")
  );
  return new FenceError(
    `Loading the fence into the holder (image ${holderImage}) failed: ${said || `exit code ${exitCode ?? "unknown"}`}. The build was not started. The holder image needs sh, ipset, iptables and ip6tables (with their -save and -restore); buildfence's own image has them (scripts/build-holder-image).`
  );
}
function verifyReadback(rules, readback) {
  const diffs = compareRules(rules, parseReadback(readback));
  if (diffs.length > 0) {
    throw new FenceError(
      `The rules read back from the holder differ from the rules loaded, so the build was not started:
  ${diffs.slice(0, 20).join("\n  ")}` + (diffs.length > 20 ? `
  ... and ${diffs.length - 20} more` : "")
    );
  }
}
function parseReadback(stdout) {
  const parts = stdout.split(`${MARK}
`);
  if (parts.length !== 6) throw new FenceError("The holder did not print its rules back; the build was not started.");
  return { ipset: parts[1], v4: parts[2], v6: parts[3], nat4: parts[4], resolvConf: parts[5] };
}

// src/kubernetes/pod.ts
var DEFAULT_AGENT_IMAGE = "buildfence/agent:0.1.0";
var RESOLVER_UID = 53053;
var RESOLVER_LISTEN = { address: "127.0.0.53", port: 5353 };
var CONTAINER = { holder: "holder", verify: "verify", fence: "fence", resolver: "resolver", build: "build" };
var POD_PATHS = {
  readback: `${RULES_MOUNT}/readback`,
  script: "script.sh",
  /** Where the holder writes the script (the build sees the same volume at SCRIPT_MOUNT). */
  holderScript: "/__buildfence-script",
  feed: "/__buildfence-feed",
  ready: "/__buildfence-ready",
  agent: "/opt/buildfence/cli.js",
  node: "/usr/local/bin/node"
};
var AGENT_ENV = { rules: "BUILDFENCE_RULES", resolver: "BUILDFENCE_RESOLVER" };
var READY_WAIT_TENTHS = 600;
var NOT_READY_EXIT = 125;
function failedFile(sidecar) {
  return `${POD_PATHS.ready}/${sidecar}.failed`;
}
var PodRenderError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "PodRenderError";
  }
};
function podName(runId) {
  return `buildfence-${runId}`;
}
function volumeNames(runId) {
  return { rules: `bf-rules-${runId}`, script: `bf-script-${runId}`, feed: `bf-feed-${runId}`, ready: `bf-ready-${runId}` };
}
function podLabels(id) {
  return {
    [LABEL]: "1",
    [LABEL_RUN]: id.runId,
    ...id.pid !== void 0 ? { [LABEL_PID]: String(id.pid) } : {},
    ...id.host !== void 0 ? { [LABEL_HOST]: id.host } : {}
  };
}
function podRuleset(spec, upstreams) {
  checkUpstreams(upstreams);
  const rules = renderRuleset({
    mode: spec.mode,
    allow: spec.allow,
    deny: spec.deny,
    gateways: [],
    resolver: RESOLVER_LISTEN,
    resolverUser: { uid: RESOLVER_UID, upstreams }
  });
  return { ...rules, resolvConf: `nameserver ${podNameserver(upstreams)}
options ndots:0
` };
}
function podNameserver(upstreams) {
  return upstreams.find((u) => import_ipaddr2.default.parse(u.address).kind() === "ipv4").address;
}
var ENV_PIECE = 96 * 1024;
var POD_ENV_BUDGET = 1024 * 1024;
function envPieces(name, value) {
  const pieces = [];
  for (let at = 0; at === 0 || at < value.length; at += ENV_PIECE) {
    pieces.push({ name: `${name}_${pieces.length}`, value: value.slice(at, at + ENV_PIECE) });
  }
  return pieces;
}
function joined(pieces) {
  return pieces.map((p) => `"$${p.name}"`).join(" ");
}
function renderPod(input) {
  const { spec } = input;
  if (spec.dockerOptions.length > 0) {
    throw new PodRenderError("Input 'docker-options' has no meaning on Kubernetes (the build is a container of a Pod). Remove it.");
  }
  if (spec.network !== void 0) {
    throw new PodRenderError("Input 'network' has no meaning on Kubernetes (the Pod has its own network namespace). Remove it.");
  }
  const rules = podRuleset(spec, input.upstreams);
  const pull = spec.pull === "never" ? "Never" : "IfNotPresent";
  const names = (entries) => entries.filter((e) => e.kind === "name");
  const resolver = {
    staticElements: [...staticMembers(rules)].filter((m) => !m.includes("-deny-") && /\/(32|128)(,|$)/.test(m.split(" ")[1])),
    mode: spec.mode,
    allow: names(spec.allow),
    deny: names(spec.deny),
    ttlMin: spec.dns.ttlMin,
    ttlMax: spec.dns.ttlMax,
    upstreams: input.upstreams,
    listen: RESOLVER_LISTEN
  };
  const vol = volumeNames(input.id.runId);
  const mounts = {
    rules: { name: vol.rules, mountPath: RULES_MOUNT },
    script: { name: vol.script, mountPath: SCRIPT_MOUNT },
    feed: { name: vol.feed, mountPath: POD_PATHS.feed },
    ready: { name: vol.ready, mountPath: POD_PATHS.ready }
  };
  const holderEnv = {
    ipset: envPieces("BF_IPSET", rules.ipset),
    v4: envPieces("BF_V4", rules.v4 + rules.nat4),
    v6: envPieces("BF_V6", rules.v6),
    resolv: envPieces("BF_RESOLV", rules.resolvConf),
    // base64: Kubernetes expands $(NAME) in env values, which a script may well contain.
    script: envPieces("BF_SCRIPT", Buffer.from(spec.run.endsWith("\n") ? spec.run : `${spec.run}
`).toString("base64"))
  };
  const holderScript2 = [
    "set -e",
    `printf %s ${joined(holderEnv.ipset)} > ${RULES_MOUNT}/${RULE_FILES.ipset}`,
    `printf %s ${joined(holderEnv.v4)} > ${RULES_MOUNT}/${RULE_FILES.v4}`,
    `printf %s ${joined(holderEnv.v6)} > ${RULES_MOUNT}/${RULE_FILES.v6}`,
    `printf %s ${joined(holderEnv.resolv)} > ${RULES_MOUNT}/${RULE_FILES.resolvConf}`,
    `printf %s ${joined(holderEnv.script)} | base64 -d > ${POD_PATHS.holderScript}/${POD_PATHS.script}`,
    `chmod 0644 ${POD_PATHS.holderScript}/${POD_PATHS.script}`,
    // The resolver's user owns the FIFOs; the fence's root (without DAC_OVERRIDE) opens them as group 0.
    `mkfifo -m 0660 ${POD_PATHS.feed}/in ${POD_PATHS.feed}/out`,
    `chown ${RESOLVER_UID}:0 ${POD_PATHS.feed}/in ${POD_PATHS.feed}/out`,
    `chmod 0777 ${POD_PATHS.ready}`,
    // The load script prints the read-back; init containers' logs may vanish, a file does not.
    `(
${LOAD_SCRIPT}
) > ${POD_PATHS.readback}`
  ].join("\n");
  const holder = {
    name: CONTAINER.holder,
    image: spec.holderImage,
    imagePullPolicy: pull,
    command: ["sh", "-c", holderScript2],
    env: Object.values(holderEnv).flat(),
    volumeMounts: [mounts.rules, { ...mounts.script, mountPath: POD_PATHS.holderScript }, mounts.feed, mounts.ready],
    // NET_ADMIN for iptables and ipset; NET_RAW because the set match asks ipset over a raw
    // socket; CHOWN for the FIFOs the resolver owns.
    securityContext: rootWith(["NET_ADMIN", "NET_RAW", "CHOWN"])
  };
  const verify = {
    name: CONTAINER.verify,
    image: input.agentImage,
    imagePullPolicy: pull,
    command: [POD_PATHS.node, POD_PATHS.agent, "pod-verify", POD_PATHS.readback],
    env: envPieces(AGENT_ENV.rules, JSON.stringify(rules)),
    volumeMounts: [{ ...mounts.rules, readOnly: true }],
    securityContext: unprivileged(RESOLVER_UID)
  };
  const iface = `nflog:${NFLOG_GROUP.denied},${NFLOG_GROUP.audit}`;
  const fenceScript = [
    // A restarted sidecar (native sidecars restart) starts without its old failure.
    `rm -f ${failedFile("fence")}`,
    `fail() { printf '%s\\n' "$1" > ${failedFile("fence")}; echo "buildfence fence: $1" >&2; exit 1; }`,
    // The log of this container is the evidence: one tcpdump line per denied attempt. tcpdump
    // drops to its own user before it says it listens, and this root holds no CAP_KILL, so not
    // even `kill -0` reaches it then (issue 7): its end is told by the file its subshell writes.
    `( tcpdump -tt -q -n -l -e -i ${iface} 2>/tmp/tcpdump.err; echo $? > /tmp/tcpdump.exit ) &`,
    `until grep -q 'listening on' /tmp/tcpdump.err 2>/dev/null; do`,
    `  [ ! -e /tmp/tcpdump.exit ] || fail "tcpdump ended (exit $(cat /tmp/tcpdump.exit)) before it listened: $(tail -n 3 /tmp/tcpdump.err)"`,
    "  sleep 0.1",
    "done",
    `touch ${POD_PATHS.ready}/fence`,
    `exec ipset - < ${POD_PATHS.feed}/in 2> ${POD_PATHS.feed}/out > /dev/null`
  ].join("\n");
  const native = input.sidecars === "native";
  const sidecar = (c, ready) => native ? {
    ...c,
    restartPolicy: "Always",
    startupProbe: {
      exec: {
        command: ready === "fence" ? ["test", "-e", `${POD_PATHS.ready}/fence`] : [POD_PATHS.node, "-e", `require('fs').accessSync('${POD_PATHS.ready}/${ready}')`]
      },
      periodSeconds: 1,
      failureThreshold: 60
    }
  } : c;
  const fence = sidecar(
    {
      name: CONTAINER.fence,
      image: spec.holderImage,
      imagePullPolicy: pull,
      command: ["sh", "-c", fenceScript],
      volumeMounts: [mounts.feed, mounts.ready],
      // SETUID and SETGID: tcpdump drops to its own user once it listens.
      securityContext: rootWith(["NET_ADMIN", "NET_RAW", "SETUID", "SETGID"])
    },
    "fence"
  );
  const resolverContainer = sidecar(
    {
      name: CONTAINER.resolver,
      image: input.agentImage,
      imagePullPolicy: pull,
      command: [POD_PATHS.node, POD_PATHS.agent, "pod-resolver"],
      env: envPieces(AGENT_ENV.resolver, JSON.stringify(resolver)),
      volumeMounts: [mounts.feed, mounts.ready],
      securityContext: unprivileged(RESOLVER_UID)
    },
    "resolver"
  );
  const script = `${SCRIPT_MOUNT}/${POD_PATHS.script}`;
  const r = POD_PATHS.ready;
  const waitReady = [
    `i=0; while [ ! -e ${r}/fence ] || [ ! -e ${r}/resolver ]; do`,
    "  for s in fence resolver; do",
    `    [ ! -e ${r}/$s.failed ] || { echo "buildfence: the $s failed, so the build was not run: $(cat ${r}/$s.failed)" >&2; exit ${NOT_READY_EXIT}; }`,
    "  done",
    `  i=$((i+1)); [ $i -le ${READY_WAIT_TENTHS} ] || {`,
    `    echo "buildfence: the$([ -e ${r}/fence ] || echo ' fence')$([ -e ${r}/fence ] || [ -e ${r}/resolver ] || echo ' and the')$([ -e ${r}/resolver ] || echo ' resolver') did not get ready in ${READY_WAIT_TENTHS / 10} s, so the build was not run" >&2`,
    `    exit ${NOT_READY_EXIT}`,
    "  }",
    "  sleep 0.1",
    "done",
    'exec "$@"'
  ].join("\n");
  const build = {
    name: CONTAINER.build,
    image: spec.image,
    imagePullPolicy: pull,
    command: ["sh", "-c", waitReady, "sh", ...shellCommand(spec.shell, script)],
    // Without the runner's claim there is no workspace here: the image's own directory.
    ...input.claimName ? { workingDir: spec.workingDirectory } : {},
    env: [...input.runnerEnv ?? [], ...spec.env].map(([name, value]) => ({ name, value: escapeDollars(value) })),
    volumeMounts: [
      { ...mounts.script, readOnly: true },
      { ...mounts.ready, readOnly: true },
      ...input.claimName ? [{ name: "workspace", mountPath: spec.workspace }] : []
    ],
    securityContext: {
      privileged: false,
      allowPrivilegeEscalation: false,
      // SETUID: with it a root build could take the resolver's uid, and with it the way upstream.
      capabilities: { drop: ["NET_ADMIN", "NET_RAW", "SETUID"] }
    }
  };
  const volumes = [
    { name: vol.rules, emptyDir: {} },
    { name: vol.script, emptyDir: {} },
    { name: vol.feed, emptyDir: {} },
    { name: vol.ready, emptyDir: {} },
    ...input.claimName ? [{ name: "workspace", persistentVolumeClaim: { claimName: input.claimName } }] : []
  ];
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podName(input.id.runId),
      ...input.namespace ? { namespace: input.namespace } : {},
      labels: podLabels(input.id),
      annotations: { "buildfence/grade": spec.grade, "buildfence/mode": spec.mode }
    },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      shareProcessNamespace: false,
      ...input.nodeName ? { nodeName: input.nodeName } : {},
      // Any DNS packet is sent to the resolver by the nat rule; naming an upstream here keeps
      // resolv.conf what a build expects to see, and the packet never reaches it.
      dnsPolicy: "None",
      dnsConfig: { nameservers: [podNameserver(input.upstreams)], options: [{ name: "ndots", value: "0" }] },
      initContainers: [holder, verify, ...native ? [fence, resolverContainer] : []],
      containers: [...native ? [] : [fence, resolverContainer], build],
      volumes
    }
  };
  const envSize = [...pod.spec.initContainers ?? [], ...pod.spec.containers].flatMap((c) => c.env ?? []).reduce((n, e) => n + (e.value?.length ?? 0), 0);
  if (envSize > POD_ENV_BUDGET) {
    throw new PodRenderError(
      `The Pod would carry ${Math.ceil(envSize / 1024)} KiB of rules, script and settings, more than the ${POD_ENV_BUDGET / 1024} KiB a Pod can hold (the Kubernetes API refuses objects over about 1.5 MiB). The allowlist has ${spec.allow.length} entries: merge neighbouring addresses into networks, or name hosts instead of listing their addresses.`
    );
  }
  return { pod, rules };
}
function renderNetworkPolicy(spec, id, upstreams, namespace) {
  if (spec.mode !== "block") {
    throw new PodRenderError(
      `Grade '${spec.grade}' runs in audit mode, which lets everything through: a NetworkPolicy would block what audit only records. Leave out --networkpolicy.`
    );
  }
  const names = spec.allow.filter((e) => e.kind === "name");
  if (names.length > 0) {
    throw new PodRenderError(
      `A NetworkPolicy cannot name hosts, so it would block the addresses of ${names.map((e) => `'${e.text}'`).join(", ")}. Use --networkpolicy only with address entries (the Pod alone fences names).`
    );
  }
  const deny = addressEntries(spec.deny);
  const egress = addressEntries(spec.allow).map((e) => ({
    to: [{ ipBlock: { cidr: e.cidr, ...exceptions(e, deny) } }],
    ports: e.protocols.map((p) => ({
      protocol: p.toUpperCase(),
      ...e.ports ? { port: e.ports.from, ...e.ports.to !== e.ports.from ? { endPort: e.ports.to } : {} } : {}
    }))
  }));
  for (const u of upstreams) {
    const cidr = `${u.address}/${import_ipaddr2.default.parse(u.address).kind() === "ipv4" ? 32 : 128}`;
    egress.push({ to: [{ ipBlock: { cidr } }], ports: ["UDP", "TCP"].map((protocol) => ({ protocol, port: u.port })) });
  }
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: podName(id.runId), ...namespace ? { namespace } : {}, labels: podLabels(id) },
    spec: { podSelector: { matchLabels: { [LABEL_RUN]: id.runId } }, policyTypes: ["Egress"], egress }
  };
}
function checkUpstreams(upstreams) {
  if (upstreams.length === 0) throw new PodRenderError("The Pod needs a DNS upstream: set input 'dns-upstream' (--dns-upstream).");
  for (const u of upstreams) {
    if (import_ipaddr2.default.parse(u.address).range() === "loopback") {
      throw new PodRenderError(
        `DNS upstream ${u.address} is a loopback address, which a Pod cannot reach. Set input 'dns-upstream' (--dns-upstream) to the cluster's DNS service (kubectl -n kube-system get service kube-dns).`
      );
    }
  }
  if (!upstreams.some((u) => import_ipaddr2.default.parse(u.address).kind() === "ipv4")) {
    throw new PodRenderError("The Pod needs an IPv4 DNS upstream (DNS is answered over IPv4 only): add one to input 'dns-upstream'.");
  }
}
function exceptions(allow, deny) {
  const [net, prefix] = import_ipaddr2.default.parseCIDR(allow.cidr);
  const inside = deny.filter((d) => d.family === allow.family).filter((d) => {
    const [addr, p] = import_ipaddr2.default.parseCIDR(d.cidr);
    return p > prefix && addr.match(net, prefix);
  }).map((d) => d.cidr);
  return inside.length > 0 ? { except: [...new Set(inside)] } : {};
}
function rootWith(caps) {
  return {
    runAsUser: 0,
    runAsNonRoot: false,
    privileged: false,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"], add: caps }
  };
}
function unprivileged(uid) {
  return {
    runAsUser: uid,
    runAsGroup: uid,
    runAsNonRoot: true,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] }
  };
}
function escapeDollars(value) {
  return value.replace(/\$/g, () => "$$");
}
function addressEntries(entries) {
  return entries.filter((e) => e.kind === "address");
}

export {
  require_ipaddr,
  require_shell_quote,
  LABEL,
  LABEL_RUN,
  LABEL_PID,
  LABEL_HOST,
  resourceNames,
  holderConfig,
  buildCreateArgs,
  runnerEnvNames,
  DOCKER_TIMEOUT_MS,
  docker,
  lastLine,
  NFLOG_GROUP,
  setName,
  renderRuleset,
  staticMembers,
  setMembers,
  compareRules,
  LOADED_MARK,
  holderScript,
  writeRuleFiles,
  loadFailure,
  verifyReadback,
  parseReadback,
  DEFAULT_AGENT_IMAGE,
  RESOLVER_UID,
  RESOLVER_LISTEN,
  CONTAINER,
  POD_PATHS,
  AGENT_ENV,
  NOT_READY_EXIT,
  failedFile,
  PodRenderError,
  podName,
  volumeNames,
  podLabels,
  podRuleset,
  ENV_PIECE,
  POD_ENV_BUDGET,
  envPieces,
  renderPod,
  renderNetworkPolicy
};
