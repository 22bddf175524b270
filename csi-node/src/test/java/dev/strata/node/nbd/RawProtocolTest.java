package dev.strata.node.nbd;

import static dev.strata.node.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.volume.CorruptDataException;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Malformed handshakes, malformed and truncated requests, sent by hand over a Unix socket. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RawProtocolTest {
    private static final long SIZE = 8L * 1024 * 1024;

    @TempDir
    Path dir;
    MemoryVolume volume;
    NbdTestSupport.Fixture fixture;

    @BeforeEach
    void start() throws Exception {
        volume = new MemoryVolume("vol", SIZE) {
            @Override
            public synchronized void read(long offset, ByteBuffer dst) throws IOException {
                if (offset == SIZE - 4096) {
                    throw new CorruptDataException("vol: CRC mismatch at " + offset);
                }
                super.read(offset, dst);
            }
        };
        fixture = new NbdTestSupport.Fixture(dir, new NbdExport("vol", "raw", volume));
    }

    @AfterEach
    void stop() {
        fixture.close();
    }

    private RawClient client() throws IOException {
        return new RawClient(fixture.socket);
    }

    /** Handshake with GO (optionally after STRUCTURED_REPLY + base:allocation). */
    private RawClient transmission(boolean structured) throws IOException {
        RawClient c = client().hello();
        if (structured) {
            c.option(OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(REP_ACK, c.optionReply().type());
            c.option(OPT_SET_META_CONTEXT, metaPayload("vol", META_BASE_ALLOCATION));
            assertEquals(REP_META_CONTEXT, c.optionReply().type());
            assertEquals(REP_ACK, c.optionReply().type());
        }
        assertEquals(REP_ACK, c.go("vol").type());
        return c;
    }

    static byte[] metaPayload(String export, String... queries) {
        ByteBuffer b = ByteBuffer.allocate(4096);
        byte[] n = export.getBytes(StandardCharsets.UTF_8);
        b.putInt(n.length).put(n).putInt(queries.length);
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            b.putInt(qb.length).put(qb);
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    private void awaitNoConnections() throws InterruptedException {
        for (int i = 0; i < 500 && fixture.server.connectionCount() > 0; i++) {
            Thread.sleep(10);
        }
        assertEquals(0, fixture.server.connectionCount(), "server still holds the connection");
    }

    @Test
    void greetingAdvertisesFixedNewstyleAndNoZeroes() throws Exception {
        try (RawClient c = client()) {
            assertEquals(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, c.greeting());
        }
    }

    @Test
    void unknownClientFlagsCloseTheConnection() throws Exception {
        try (RawClient c = client()) {
            c.greeting();
            c.clientFlags(FLAG_C_FIXED_NEWSTYLE | 0x100);
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void badOptionMagicClosesTheConnection() throws Exception {
        try (RawClient c = client().hello()) {
            c.write(ByteBuffer.allocate(16).putLong(0x1122334455667788L).putInt(OPT_GO).putInt(0).flip());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void clientClosingMidHandshakeIsHandled() throws Exception {
        try (RawClient c = client().hello()) {
            c.write(ByteBuffer.allocate(10).putLong(IHAVEOPT).putShort((short) 0).flip());
            c.ch.shutdownOutput();
            assertTrue(c.closedByServer());
        }
        awaitNoConnections();
    }

    @Test
    void badOptionsGetErrorRepliesAndTheHandshakeGoesOn() throws Exception {
        try (RawClient c = client().hello()) {
            c.option(0x1234, new byte[]{1, 2, 3});
            assertEquals(REP_ERR_UNSUP, c.optionReply().type());
            c.option(OPT_STARTTLS, new byte[0]);
            assertEquals(REP_ERR_UNSUP, c.optionReply().type());
            c.option(OPT_EXTENDED_HEADERS, new byte[0]);
            assertEquals(REP_ERR_UNSUP, c.optionReply().type());
            c.option(OPT_LIST, new byte[]{0});
            assertEquals(REP_ERR_INVALID, c.optionReply().type());
            c.option(OPT_STRUCTURED_REPLY, new byte[]{0});
            assertEquals(REP_ERR_INVALID, c.optionReply().type());
            c.option(OPT_SET_META_CONTEXT, metaPayload("vol", META_BASE_ALLOCATION));
            assertEquals(REP_ERR_INVALID, c.optionReply().type(), "meta context before structured replies");
            // GO payloads with inconsistent lengths
            c.option(OPT_GO, new byte[]{0, 0, 0, 3, 'v', 'o', 'l'});                // no info count
            assertEquals(REP_ERR_INVALID, c.optionReply().type());
            c.option(OPT_GO, new byte[]{0, 0, 0, 9, 'v', 'o', 'l', 0, 0});          // name longer than payload
            assertEquals(REP_ERR_INVALID, c.optionReply().type());
            c.option(OPT_INFO, new byte[]{0, 0, 0, 3, 'v', 'o', 'l', 0, 2, 0, 1}); // 2 infos announced, 1 sent
            assertEquals(REP_ERR_INVALID, c.optionReply().type());
            c.option(OPT_GO, new byte[]{0, 0, 0, 2, (byte) 0xc3, (byte) 0x28, 0, 0}); // invalid UTF-8
            assertEquals(REP_ERR_INVALID, c.optionReply().type());
            RawClient.OptionReply unknown = c.go("nope");
            assertEquals(REP_ERR_UNKNOWN, unknown.type());
            assertTrue(new String(unknown.data(), StandardCharsets.UTF_8).contains("nope"));
            c.option(OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(REP_ACK, c.optionReply().type());
            c.option(OPT_SET_META_CONTEXT, new byte[]{0, 0, 0, 3, 'v', 'o', 'l', 0, 0, 0, 1}); // query missing
            assertEquals(REP_ERR_INVALID, c.optionReply().type());
            c.option(OPT_SET_META_CONTEXT, metaPayload("nope", META_BASE_ALLOCATION));
            assertEquals(REP_ERR_UNKNOWN, c.optionReply().type());
            c.option(OPT_LIST_META_CONTEXT, metaPayload("vol", "nocolon"));
            assertEquals(REP_ERR_INVALID, c.optionReply().type());
            c.option(OPT_LIST_META_CONTEXT, metaPayload("vol", "qemu:dirty-bitmap:x"));
            assertEquals(REP_ACK, c.optionReply().type(), "unknown namespaces are ignored");
            // and after all that, a good GO still enters transmission
            assertEquals(REP_ACK, c.go("vol").type());
            c.request(0, CMD_READ, 7, 0, 512, null);
            RawClient.Chunk chunk = c.chunk();
            assertEquals(7, chunk.handle());
            assertEquals(REPLY_FLAG_DONE, chunk.flags() & REPLY_FLAG_DONE);
        }
    }

    @Test
    void absurdOptionLengthIsRefusedThenClosed() throws Exception {
        try (RawClient c = client().hello()) {
            c.write(ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(OPT_INFO).putInt(0x7fffffff).flip());
            RawClient.OptionReply r = c.optionReply();
            assertEquals(REP_ERR_TOO_BIG, r.type());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void exportNameHonoursNoZeroesAndUnknownNamesClose() throws Exception {
        try (RawClient c = client()) {
            c.greeting();
            c.clientFlags(FLAG_C_FIXED_NEWSTYLE);
            c.option(OPT_EXPORT_NAME, "vol".getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = c.read(10 + 124);
            assertEquals(SIZE, b.getLong());
            int flags = Short.toUnsignedInt(b.getShort());
            assertEquals(TX_HAS_FLAGS, flags & TX_HAS_FLAGS);
            assertEquals(TX_CAN_MULTI_CONN, flags & TX_CAN_MULTI_CONN);
            while (b.hasRemaining()) {
                assertEquals(0, b.get());
            }
            c.request(0, CMD_FLUSH, 1, 0, 0, null);
            assertArrayEquals(new long[]{0, 1}, c.simpleReply());
        }
        try (RawClient c = client().hello()) {
            c.option(OPT_EXPORT_NAME, "vol".getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = c.read(10);
            assertEquals(SIZE, b.getLong());
            c.request(0, CMD_FLUSH, 2, 0, 0, null);
            assertArrayEquals(new long[]{0, 2}, c.simpleReply(), "no zero padding with NO_ZEROES");
        }
        try (RawClient c = client().hello()) {
            c.option(OPT_EXPORT_NAME, "nope".getBytes(StandardCharsets.UTF_8));
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void truncatedWritePayloadAppliesNothing() throws Exception {
        try (RawClient c = transmission(false)) {
            byte[] half = QemuClientsTest.filled(32 * 1024, (byte) 0x77);
            ByteBuffer b = ByteBuffer.allocate(28 + half.length);
            b.putInt(REQUEST_MAGIC).putShort((short) CMD_FLAG_FUA).putShort((short) CMD_WRITE).putLong(1)
                    .putLong(0).putInt(64 * 1024).put(half);
            c.write(b.flip());
            c.ch.shutdownOutput(); // the client vanishes half-way through the payload
            assertTrue(c.closedByServer());
        }
        awaitNoConnections();
        assertEquals(0, volume.writes.get(), "a truncated WRITE must not reach the volume");
        assertEquals(0, volume.allocatedBlocks());
    }

    @Test
    void truncatedRequestHeaderAppliesNothing() throws Exception {
        try (RawClient c = transmission(false)) {
            c.write(ByteBuffer.allocate(10).putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_WRITE)
                    .putShort((short) 0).flip());
            c.ch.shutdownOutput();
            assertTrue(c.closedByServer());
        }
        awaitNoConnections();
        assertEquals(0, volume.writes.get());
    }

    @Test
    void badRequestMagicCloses() throws Exception {
        try (RawClient c = transmission(false)) {
            c.write(ByteBuffer.allocate(28).putInt(0xdeadbeef).position(28).flip());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void oversizedWriteIsDrainedAndRefusedThenTheStreamStaysInSync() throws Exception {
        try (RawClient c = transmission(false)) {
            int length = MAX_BLOCK_SIZE + 4096;
            c.request(0, CMD_WRITE, 11, 0, length, new byte[length]);
            assertArrayEquals(new long[]{NbdErrors.EINVAL, 11}, c.simpleReply());
            c.request(0, CMD_WRITE, 12, SIZE, 4096, new byte[4096]); // past the end: drained, ENOSPC
            assertArrayEquals(new long[]{NbdErrors.ENOSPC, 12}, c.simpleReply());
            c.request(0, CMD_READ, 13, 0, 4096, null);
            assertArrayEquals(new long[]{0, 13}, c.simpleReply());
            assertArrayEquals(new byte[4096], c.read(4096).array());
        }
        assertEquals(0, volume.writes.get());
    }

    @Test
    void absurdWriteLengthCloses() throws Exception {
        try (RawClient c = transmission(false)) {
            c.request(0, CMD_WRITE, 1, 0, 0xffffffffL, new byte[4096]);
            assertTrue(c.closedByServer());
        }
        assertEquals(0, volume.writes.get());
    }

    @Test
    void unknownCommandsAndBadFlagsGetEinval() throws Exception {
        try (RawClient c = transmission(false)) {
            c.request(0, 42, 1, 0, 512, null);
            assertArrayEquals(new long[]{NbdErrors.EINVAL, 1}, c.simpleReply());
            c.request(0x8000, CMD_READ, 2, 0, 512, null);
            assertArrayEquals(new long[]{NbdErrors.EINVAL, 2}, c.simpleReply());
            c.request(0, CMD_FLUSH, 3, 4096, 0, null);
            assertArrayEquals(new long[]{NbdErrors.EINVAL, 3}, c.simpleReply());
            c.request(0, CMD_BLOCK_STATUS, 4, 0, 4096, null);   // no meta context negotiated
            assertArrayEquals(new long[]{NbdErrors.EINVAL, 4}, c.simpleReply());
            c.request(0, CMD_READ, 5, -512L, 512, null);         // offset 2^64-512
            assertArrayEquals(new long[]{NbdErrors.EINVAL, 5}, c.simpleReply());
            c.request(0, CMD_TRIM, 6, 0, 0xfffffe00L, null);     // trim far past the end
            assertArrayEquals(new long[]{NbdErrors.EINVAL, 6}, c.simpleReply());
            c.request(0, CMD_READ, 7, 0, 512, null);
            assertArrayEquals(new long[]{0, 7}, c.simpleReply());
            c.read(512);
        }
    }

    @Test
    void volumeErrorsMapToErrnoWithStructuredErrorChunks() throws Exception {
        // Allocated, so the server really reads it (a hole would be answered without a read).
        volume.write(SIZE - 4096, ByteBuffer.allocate(4096), false);
        try (RawClient c = transmission(true)) {
            c.request(0, CMD_READ, 1, SIZE - 4096, 4096, null);   // corrupt data → EIO
            RawClient.Chunk chunk = c.chunk();
            assertEquals(REPLY_TYPE_ERROR, chunk.type());
            assertEquals(REPLY_FLAG_DONE, chunk.flags());
            ByteBuffer p = ByteBuffer.wrap(chunk.payload());
            assertEquals(NbdErrors.EIO, p.getInt());
            int messageLength = Short.toUnsignedInt(p.getShort());
            assertTrue(new String(chunk.payload(), 6, messageLength, StandardCharsets.UTF_8).contains("CRC"));
            c.request(0, CMD_READ, 2, SIZE, 4096, null);           // past the end → EINVAL, structured
            chunk = c.chunk();
            assertEquals(REPLY_TYPE_ERROR, chunk.type());
            assertEquals(NbdErrors.EINVAL, ByteBuffer.wrap(chunk.payload()).getInt());
            volume.close();                                        // closed volume → ESHUTDOWN
            c.request(0, CMD_WRITE, 3, 0, 512, new byte[512]);
            chunk = c.chunk();
            assertEquals(NbdErrors.ESHUTDOWN, ByteBuffer.wrap(chunk.payload()).getInt());
        }
    }

    @Test
    void blockStatusAndHoleChunksOnTheWire() throws Exception {
        volume.write(0, ByteBuffer.wrap(new byte[8192]).put(0, (byte) 1), false);
        try (RawClient c = transmission(true)) {
            c.request(0, CMD_BLOCK_STATUS, 1, 0, 65536, null);
            RawClient.Chunk chunk = c.chunk();
            assertEquals(REPLY_TYPE_BLOCK_STATUS, chunk.type());
            assertEquals(REPLY_FLAG_DONE, chunk.flags());
            ByteBuffer p = ByteBuffer.wrap(chunk.payload());
            assertEquals(META_BASE_ALLOCATION_ID, p.getInt());
            assertEquals(8192, p.getInt());
            assertEquals(0, p.getInt());
            assertEquals(65536 - 8192, p.getInt());
            assertEquals(STATE_HOLE | STATE_ZERO, p.getInt());
            assertFalse(p.hasRemaining());
            c.request(0, CMD_READ, 2, 0, 65536, null);  // data chunk then hole chunk, DONE on the last
            RawClient.Chunk data = c.chunk();
            RawClient.Chunk hole = c.chunk();
            assertEquals(REPLY_TYPE_OFFSET_DATA, data.type());
            assertEquals(0, data.flags());
            assertEquals(8 + 8192, data.payload().length);
            assertEquals(1, data.payload()[8]);
            assertEquals(REPLY_TYPE_OFFSET_HOLE, hole.type());
            assertEquals(REPLY_FLAG_DONE, hole.flags());
            ByteBuffer h = ByteBuffer.wrap(hole.payload());
            assertEquals(8192, h.getLong());
            assertEquals(65536 - 8192, h.getInt());
        }
    }

    @Test
    void pipelinedRequestsAllGetReplies() throws Exception {
        try (RawClient c = transmission(false)) {
            int n = 200;
            ByteBuffer batch = ByteBuffer.allocate(n * (28 + 4096) + n * 28);
            for (int i = 0; i < n; i++) {
                batch.putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_WRITE).putLong(i)
                        .putLong(i * 4096L).putInt(4096).put(QemuClientsTest.filled(4096, (byte) i));
            }
            for (int i = 0; i < n; i++) {
                batch.putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_FLUSH).putLong(1000 + i)
                        .putLong(0).putInt(0);
            }
            // Written by another thread: the server may block on replies we have not read yet.
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    c.write(batch.flip());
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            Set<Long> handles = new HashSet<>();
            for (int i = 0; i < 2 * n; i++) {
                long[] r = c.simpleReply();
                assertEquals(0, r[0]);
                assertTrue(handles.add(r[1]), "duplicate reply for handle " + r[1]);
            }
            writer.join();
            assertEquals(2 * n, handles.size());
            for (int i = 0; i < n; i++) {
                assertEquals((byte) i, volume.bytes(i * 4096L, 4096)[4095]);
            }
        }
    }

    @Test
    void discRepliesToOutstandingRequestsThenCloses() throws Exception {
        try (RawClient c = transmission(false)) {
            ByteBuffer b = ByteBuffer.allocate(28 + 4096 + 28);
            b.putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_WRITE).putLong(9).putLong(0).putInt(4096)
                    .put(QemuClientsTest.filled(4096, (byte) 3));
            b.putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_DISC).putLong(10).putLong(0).putInt(0);
            c.write(b.flip());
            assertArrayEquals(new long[]{0, 9}, c.simpleReply());
            assertTrue(c.closedByServer());
        }
        assertEquals(3, volume.bytes(0, 512)[0]);
    }

    @Test
    void serverCloseEndsConnectionsAndRemovesTheSocket() throws Exception {
        RawClient inTransmission = transmission(false);
        RawClient inHandshake = client().hello();
        long start = System.nanoTime();
        fixture.server.close();
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "close took too long");
        assertTrue(inTransmission.closedByServer());
        assertTrue(inHandshake.closedByServer());
        assertFalse(Files.exists(fixture.socket));
        inTransmission.close();
        inHandshake.close();
    }

    @Test
    void unixSocketIsOwnerOnlyAndEndpointsAreUris() throws Exception {
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(fixture.socket));
        List<URI> endpoints = fixture.server.endpoints();
        int port = fixture.server.tcpAddress().orElseThrow().getPort();
        assertTrue(port > 0);
        assertEquals(List.of(URI.create("nbd+unix:///vol?socket=" + fixture.socket),
                URI.create("nbd://127.0.0.1:" + port + "/vol")), endpoints);
    }

    @Test
    void endpointNamesArePercentEncoded() {
        assertEquals("pvc-1/a%20b%3Fc%26d%C3%BC", NbdServer.encode("pvc-1/a b?c&dü"));
        assertEquals("/run/strata/x.sock", NbdServer.encode("/run/strata/x.sock"));
    }

    @Test
    void staleSocketFileIsReplacedButALiveOneIsNot() throws Exception {
        Path other = dir.resolve("other.sock");
        Files.createFile(other); // stale: nothing listens
        NbdServer second = NbdServer.builder().export(new NbdExport("x", volume)).unixSocket(other).build();
        second.start();
        try {
            NbdServer third = NbdServer.builder().export(new NbdExport("x", volume)).unixSocket(other).build();
            IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, third::start);
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        } finally {
            second.close();
        }
    }
}
