package dev.strata.node.nbd;

import static dev.strata.node.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.engine.volume.Volume;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Generated inputs (random and mutated valid messages) for the request parser/validator, the
 * option payload parsers and the whole handshake. Only the protocol's own exception type may
 * escape, and the volume must end up exactly as a model built from the accepted requests.
 */
@Timeout(60)
class NbdFuzzTest {
    private static final int VOLUME_SIZE = 1024 * 1024;
    private static final Set<Integer> SPEC_ERRORS = Set.of(NbdErrors.EPERM, NbdErrors.EINVAL, NbdErrors.ENOSPC);
    private static final long[] EXTREMES = {0, 1, 511, 512, 4096, VOLUME_SIZE - 512, VOLUME_SIZE, VOLUME_SIZE + 512,
            MAX_BLOCK_SIZE, MAX_BLOCK_SIZE + 512L, 0xffffffffL, Long.MAX_VALUE, Long.MIN_VALUE, -512, -1};

    @Test
    void requestParserAndValidator() throws Exception {
        Random random = new Random(20261122);
        MemoryVolume volume = new MemoryVolume("fuzz", VOLUME_SIZE);
        byte[] model = new byte[VOLUME_SIZE];
        int rw = TX_HAS_FLAGS | TX_SEND_FLUSH | TX_SEND_FUA | TX_SEND_TRIM | TX_SEND_WRITE_ZEROES
                | TX_SEND_FAST_ZERO | TX_SEND_CACHE | TX_CAN_MULTI_CONN;
        List<NbdRequestParser.Context> contexts = List.of(
                new NbdRequestParser.Context(VOLUME_SIZE, 512, rw, true, true),
                new NbdRequestParser.Context(VOLUME_SIZE, 512, rw, false, false),
                new NbdRequestParser.Context(VOLUME_SIZE, 512, rw, true, false),
                new NbdRequestParser.Context(VOLUME_SIZE, 512, TX_HAS_FLAGS | TX_READ_ONLY | TX_SEND_FLUSH, true, true));
        ByteBuffer wire = ByteBuffer.allocate(REQUEST_HEADER_LENGTH);
        byte[] payload = new byte[64 * 1024];
        int inputs = 1_000_000;
        int parsed = 0;
        int accepted = 0;
        int applied = 0;
        for (int i = 0; i < inputs; i++) {
            wire.clear();
            if (i % 4 == 0) {
                random.nextBytes(wire.array());
                if (random.nextBoolean()) {
                    wire.putInt(0, REQUEST_MAGIC); // get past the magic check half the time
                }
            } else {
                mutatedValidRequest(random, wire);
            }
            NbdRequest r;
            try {
                r = NbdRequestParser.parseHeader(wire);
            } catch (NbdProtocolException e) {
                continue; // the only exception allowed out of the parser
            }
            parsed++;
            NbdRequestParser.Context c = contexts.get(random.nextInt(contexts.size()));
            NbdRequestParser.Rejection rejection = NbdRequestParser.validate(r, c);
            if (rejection != null) {
                assertTrue(SPEC_ERRORS.contains(rejection.error()), "error outside the spec set: " + rejection);
                assertTrue(rejection.message() != null && !rejection.message().isEmpty());
                continue;
            }
            accepted++;
            assertAcceptable(r, c);
            applied += apply(r, volume, model, payload, random) ? 1 : 0;
        }
        assertTrue(parsed > inputs / 2 && accepted > inputs / 20 && applied > inputs / 40,
                "the generator reaches deep enough: parsed " + parsed + " accepted " + accepted + " applied " + applied);
        assertArrayEquals(model, volume.bytes(0, VOLUME_SIZE), "volume diverged from the model of accepted requests");
    }

    /** A well-formed request for a small volume, then up to three mutations. */
    private static void mutatedValidRequest(Random random, ByteBuffer wire) {
        int type = random.nextInt(8);
        long length = 512L * (1 + random.nextInt(128));
        long offset = 512L * random.nextInt(VOLUME_SIZE / 512);
        if (offset + length > VOLUME_SIZE) {
            offset = VOLUME_SIZE - length;
        }
        int flags = random.nextInt(4) == 0 ? NbdRequestParser.allowedFlags(type) & random.nextInt(32) : 0;
        long handle = random.nextLong();
        if (type == CMD_FLUSH || type == CMD_DISC) {
            offset = 0;
            length = 0;
        }
        int mutations = random.nextInt(4);
        for (int m = 0; m < mutations; m++) {
            switch (random.nextInt(6)) {
                case 0 -> type = random.nextInt(random.nextBoolean() ? 16 : 65536);
                case 1 -> flags = random.nextInt(65536);
                case 2 -> offset = random.nextBoolean() ? EXTREMES[random.nextInt(EXTREMES.length)] : random.nextLong();
                case 3 -> length = (random.nextBoolean() ? EXTREMES[random.nextInt(EXTREMES.length)]
                        : random.nextLong()) & 0xffffffffL;
                case 4 -> offset += random.nextInt(1024) - 512;
                default -> length = (length + random.nextInt(1024) - 512) & 0xffffffffL;
            }
        }
        wire.putInt(REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(handle).putLong(offset)
                .putInt((int) length).flip();
        if (random.nextInt(50) == 0) { // and the odd raw bit flip, magic included
            int bit = random.nextInt(REQUEST_HEADER_LENGTH * 8);
            wire.put(bit / 8, (byte) (wire.get(bit / 8) ^ (1 << (bit % 8))));
        }
    }

    /** Everything the transmission code relies on once a request passed validation. */
    private static void assertAcceptable(NbdRequest r, NbdRequestParser.Context c) {
        assertTrue(r.type() >= CMD_READ && r.type() <= CMD_BLOCK_STATUS, r.toString());
        assertEquals(0, r.flags() & ~NbdRequestParser.allowedFlags(r.type()), r.toString());
        boolean writes = r.type() == CMD_WRITE || r.type() == CMD_TRIM || r.type() == CMD_WRITE_ZEROES;
        assertTrue(!writes || (c.transmissionFlags() & TX_READ_ONLY) == 0, r.toString());
        if (r.type() == CMD_FLUSH || r.type() == CMD_DISC) {
            assertEquals(0, r.offset());
            assertEquals(0, r.length());
            return;
        }
        assertTrue(r.length() > 0 && r.length() % 512 == 0 && r.offset() >= 0 && r.offset() % 512 == 0, r.toString());
        assertTrue(r.offset() + r.length() <= c.exportSize(), r.toString());
        if (r.type() == CMD_READ || r.type() == CMD_WRITE || r.type() == CMD_CACHE) {
            assertTrue(r.length() <= MAX_BLOCK_SIZE, r.toString());
        }
        if (r.type() == CMD_BLOCK_STATUS) {
            assertTrue(c.structuredReplies() && c.baseAllocation());
        }
    }

    /** Runs an accepted request against the volume and the model; the volume must not refuse it. */
    private static boolean apply(NbdRequest r, MemoryVolume v, byte[] model, byte[] payload, Random random)
            throws Exception {
        int off = (int) r.offset();
        int len = (int) r.length();
        switch (r.type()) {
            case CMD_WRITE -> {
                if (len > payload.length) {
                    return false;
                }
                byte b = (byte) random.nextInt();
                java.util.Arrays.fill(payload, 0, len, b);
                v.write(off, ByteBuffer.wrap(payload, 0, len), false);
                java.util.Arrays.fill(model, off, off + len, b);
            }
            case CMD_TRIM, CMD_WRITE_ZEROES -> {
                if (r.type() == CMD_TRIM) {
                    v.trim(off, len);
                } else {
                    v.writeZeroes(off, len, false);
                }
                java.util.Arrays.fill(model, off, off + len, (byte) 0);
            }
            case CMD_READ -> {
                if (len > payload.length) {
                    return false;
                }
                v.read(off, ByteBuffer.wrap(payload, 0, len));
                assertArrayEquals(java.util.Arrays.copyOfRange(model, off, off + len),
                        java.util.Arrays.copyOf(payload, len));
            }
            case CMD_BLOCK_STATUS -> {
                List<Volume.AllocationRun> runs = v.allocation(off, len, MAX_BLOCK_STATUS_EXTENTS);
                long sum = runs.stream().mapToLong(Volume.AllocationRun::length).sum();
                assertTrue(sum > 0 && sum <= len);
            }
            case CMD_FLUSH -> v.flush();
            default -> {
                return false;
            }
        }
        return true;
    }

    @Test
    void optionPayloadParsers() {
        Random random = new Random(7);
        int inputs = 500_000;
        int ok = 0;
        for (int i = 0; i < inputs; i++) {
            byte[] p;
            int kind = random.nextInt(3);
            if (i % 3 == 0) {
                p = new byte[random.nextInt(48)];
                random.nextBytes(p);
            } else {
                p = mutate(random, validOptionPayload(random, kind));
            }
            try {
                switch (kind) {
                    case 0 -> {
                        NbdOptions.InfoRequest info = NbdOptions.parseInfo(ByteBuffer.wrap(p));
                        assertEquals(p.length, 4 + utf8(info.exportName()).length + 2 + 2 * info.infoTypes().size());
                    }
                    case 1 -> {
                        NbdOptions.MetaContextRequest meta = NbdOptions.parseMetaContext(ByteBuffer.wrap(p));
                        assertTrue(meta.queries().size() <= MAX_META_QUERIES);
                        meta.queries().forEach(q -> assertTrue(q.indexOf(':') > 0, q));
                    }
                    default -> {
                        String name = NbdOptions.parseExportName(ByteBuffer.wrap(p));
                        assertTrue(name.indexOf('\0') < 0);
                    }
                }
                ok++;
            } catch (NbdOptionException e) {
                assertTrue(e.replyType() == REP_ERR_INVALID || e.replyType() == REP_ERR_TOO_BIG, e.toString());
            }
        }
        assertTrue(ok > inputs / 10, "valid payloads survive often enough: " + ok);
    }

    private static byte[] validOptionPayload(Random random, int kind) {
        String name = random.nextBoolean() ? "vol" : "ünïcode-" + random.nextInt(100);
        ByteBuffer b = ByteBuffer.allocate(1024);
        byte[] n = utf8(name);
        switch (kind) {
            case 0 -> {
                int count = random.nextInt(4);
                b.putInt(n.length).put(n).putShort((short) count);
                for (int i = 0; i < count; i++) {
                    b.putShort((short) random.nextInt(5));
                }
            }
            case 1 -> {
                int count = random.nextInt(3);
                b.putInt(n.length).put(n).putInt(count);
                for (int i = 0; i < count; i++) {
                    byte[] q = utf8(random.nextBoolean() ? META_BASE_ALLOCATION : "base:");
                    b.putInt(q.length).put(q);
                }
            }
            default -> b.put(n);
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    private static byte[] mutate(Random random, byte[] p) {
        int mutations = random.nextInt(3);
        for (int m = 0; m < mutations && p.length > 0; m++) {
            switch (random.nextInt(4)) {
                case 0 -> p[random.nextInt(p.length)] ^= (byte) (1 << random.nextInt(8));
                case 1 -> p = java.util.Arrays.copyOf(p, random.nextInt(p.length + 1));
                case 2 -> {
                    int at = random.nextInt(p.length);
                    p[at] = (byte) (random.nextBoolean() ? 0xff : 0);
                }
                default -> p = java.util.Arrays.copyOf(p, p.length + 1 + random.nextInt(8));
            }
        }
        return p;
    }

    @Test
    void wholeHandshakeStreams() throws Exception {
        Random random = new Random(99);
        MemoryVolume rwVolume = new MemoryVolume("vol", VOLUME_SIZE);
        rwVolume.write(0, ByteBuffer.wrap(new byte[4096]).put(0, (byte) 9), false);
        long checksum = rwVolume.checksum();
        NbdExport vol = new NbdExport("vol", "fuzz", rwVolume);
        NbdExport ro = new NbdExport("ro", "", new MemoryVolume("ro", VOLUME_SIZE, true));
        NbdExports exports = new NbdExports(List.of(vol, ro));
        int streams = 50_000;
        // 50k streams of refused options would be 100k warning lines: keep this test's output readable.
        java.util.logging.Logger handshakeLog = java.util.logging.Logger.getLogger(NbdHandshake.class.getName());
        java.util.logging.Level before = handshakeLog.getLevel();
        handshakeLog.setLevel(java.util.logging.Level.SEVERE);
        try {
            runHandshakes(random, exports, vol, ro, streams);
        } finally {
            handshakeLog.setLevel(before);
        }
        assertSame(vol, exports.find("vol"));
        assertSame(vol, exports.find(""));
        assertEquals(checksum, rwVolume.checksum(), "the handshake must never touch volume data");
        assertEquals(1, rwVolume.writes.get());
    }

    private static void runHandshakes(Random random, NbdExports exports, NbdExport vol, NbdExport ro, int streams) {
        int sessions = 0;
        for (int i = 0; i < streams; i++) {
            byte[] stream = i % 5 == 0 ? randomBytes(random, random.nextInt(64)) : mutate(random, validHandshake(random));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            NbdHandshake handshake = new NbdHandshake(Channels.newChannel(new ByteArrayInputStream(stream)),
                    Channels.newChannel(out), exports, "fuzz#" + i, () -> false);
            try {
                NbdSession s = handshake.run();
                if (s != null) {
                    sessions++;
                    assertTrue(s.export() == vol || s.export() == ro);
                    assertEquals(s.export().transmissionFlags(), s.transmissionFlags());
                    assertTrue(!s.baseAllocation() || s.structuredReplies());
                }
            } catch (NbdProtocolException e) {
                // a broken stream: the connection would be closed
            } catch (Exception e) {
                fail("handshake let " + e + " escape for stream #" + i, e);
            }
        }
        assertTrue(sessions > streams / 20, "valid handshakes get through often enough: " + sessions);
    }

    private static byte[] validHandshake(Random random) {
        ByteBuffer b = ByteBuffer.allocate(4096);
        b.putInt(FLAG_C_FIXED_NEWSTYLE | (random.nextBoolean() ? FLAG_C_NO_ZEROES : 0));
        int options = random.nextInt(5);
        for (int i = 0; i < options; i++) {
            int kind = random.nextInt(6);
            switch (kind) {
                case 0 -> option(b, OPT_STRUCTURED_REPLY, new byte[0]);
                case 1 -> option(b, OPT_LIST, new byte[0]);
                case 2 -> option(b, OPT_INFO, validOptionPayload(random, 0));
                case 3 -> option(b, OPT_SET_META_CONTEXT, validOptionPayload(random, 1));
                case 4 -> option(b, OPT_LIST_META_CONTEXT, validOptionPayload(random, 1));
                default -> option(b, random.nextInt(20), randomBytes(random, random.nextInt(16)));
            }
        }
        switch (random.nextInt(3)) {
            case 0 -> option(b, OPT_GO, validOptionPayload(random, 0));
            case 1 -> option(b, OPT_EXPORT_NAME, utf8(random.nextBoolean() ? "vol" : "ro"));
            default -> option(b, OPT_ABORT, new byte[0]);
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    private static void option(ByteBuffer b, int option, byte[] data) {
        b.putLong(IHAVEOPT).putInt(option).putInt(data.length).put(data);
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
