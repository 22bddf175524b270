package dev.strata.node.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.SnapshotView;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeOptions;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control endpoint in-process, against the real engine (a volume on a local directory
 * store): every request and error code of docs/control.md, the socket file's life cycle
 * (mode 0600, stale file replaced, live one kept, removed on close), progress lines, a
 * request in flight at close, and a serve that dies mid-request.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ControlServerTest {
    private static final long SIZE = 16L * 1024 * 1024;

    @TempDir
    Path tmp;
    StrataEngine engine;
    LogStructuredVolume volume;
    Path socket;
    ControlServer server;

    @BeforeEach
    void open() throws Exception {
        engine = new StrataEngine(new LocalDirectoryObjectStore(tmp.resolve("bucket")), tmp.resolve("node"), "test-node");
        engine.createVolume("vol0", SIZE);
        volume = engine.openForWrite("vol0", VolumeOptions.defaults(), false);
        socket = ControlProtocol.defaultSocket(tmp.resolve("node"), "vol0");
        server = ControlServer.start(socket, new VolumeControl(engine, volume, () -> Map.of("extra", "yes")));
    }

    @AfterEach
    void close() throws Exception {
        if (server != null) {
            server.close();
        }
        volume.close();
        engine.close();
    }

    private Map<String, String> call(String verb, String... args) throws IOException {
        try (ControlClient c = ControlClient.connect(socket)) {
            return c.call(verb, List.of(args), p -> { });
        }
    }

    private ControlException error(String verb, String... args) {
        return assertThrows(ControlException.class, () -> call(verb, args));
    }

    @Test
    void socketIsPrivateAndDiscoverable() throws Exception {
        assertEquals(tmp.resolve("node/control/vol0.sock").toAbsolutePath(), server.path());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())));
        assertEquals(ControlClient.Presence.LIVE, ControlClient.presence(socket));
        server.close();
        assertFalse(Files.exists(socket), "socket removed on close");
        assertEquals(ControlClient.Presence.ABSENT, ControlClient.presence(socket));
        assertNull(ControlClient.connect(socket));
        server = null;
    }

    @Test
    void snapshotThroughTheWriterHoldsEveryAcknowledgedWrite() throws Exception {
        byte[] a = pattern(0x11, 64 * 1024);
        volume.write(4096, ByteBuffer.wrap(a), false); // in the journal and the open batch only
        Map<String, String> f = call(ControlProtocol.SNAPSHOT_CREATE, "vol0", "s1");
        assertEquals("vol0", f.get("volume"));
        assertEquals("s1", f.get("snapshot"));
        assertEquals("1", f.get("object-seq"));
        volume.write(4096, ByteBuffer.wrap(pattern(0x22, 64 * 1024)), false); // after: not in s1
        try (SnapshotView v = engine.openSnapshot("vol0", "s1")) {
            ByteBuffer got = ByteBuffer.allocate(a.length);
            v.read(4096, got);
            assertArrayEquals(a, got.array());
        }

        assertEquals(ControlProtocol.E_SNAPSHOT_EXISTS, error(ControlProtocol.SNAPSHOT_CREATE, "vol0", "s1").code());
        assertEquals(ControlProtocol.E_SNAPSHOT_NOT_FOUND, error(ControlProtocol.SNAPSHOT_DELETE, "vol0", "nope").code());
        assertEquals(ControlProtocol.E_BAD_ARGUMENT, error(ControlProtocol.SNAPSHOT_CREATE, "vol0", "bad.name").code());
        assertEquals(ControlProtocol.E_BAD_ARGUMENT, error(ControlProtocol.SNAPSHOT_CREATE, "vol0").code());
        ControlException wrong = error(ControlProtocol.SNAPSHOT_CREATE, "vol9", "s2");
        assertEquals(ControlProtocol.E_WRONG_VOLUME, wrong.code());
        assertTrue(wrong.getMessage().contains("holds volume vol0, not vol9"), wrong.getMessage());

        call(ControlProtocol.SNAPSHOT_CREATE, "vol0", "s2");
        assertEquals(Map.of("volume", "vol0", "snapshot", "s2"), call(ControlProtocol.SNAPSHOT_DELETE, "vol0", "s2"));
        assertEquals(List.of("s1"), engine.listSnapshots("vol0").stream().map(r -> r.snapshot()).toList());

        // A snapshot a clone reads through: hidden, kept for the clone, which the answer names.
        engine.cloneVolume("vol0", "s1", "vol1");
        assertEquals(Map.of("volume", "vol0", "snapshot", "s1", "kept-for", "vol1"),
                call(ControlProtocol.SNAPSHOT_DELETE, "vol0", "s1"));
        assertEquals(List.of(), engine.listSnapshots("vol0"));
    }

    @Test
    void concurrentSnapshotsOnSeveralConnections() throws Exception {
        List<CompletableFuture<String>> calls = new ArrayList<>();
        for (String name : List.of("a", "b", "c", "same", "same", "same")) {
            volume.write(0, ByteBuffer.wrap(pattern(name.charAt(0), 4096)), false);
            calls.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return call(ControlProtocol.SNAPSHOT_CREATE, "vol0", name).get("snapshot");
                } catch (ControlException e) {
                    return e.code();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        List<String> results = new ArrayList<>();
        for (CompletableFuture<String> c : calls) {
            results.add(c.get(60, TimeUnit.SECONDS));
        }
        assertEquals(List.of("a", "b", "c"), results.subList(0, 3));
        assertEquals(1, results.stream().filter("same"::equals).count(), results.toString());
        assertEquals(2, results.stream().filter(ControlProtocol.E_SNAPSHOT_EXISTS::equals).count(), results.toString());
        assertEquals(List.of("a", "b", "c", "same"), engine.listSnapshots("vol0").stream().map(r -> r.snapshot()).toList());
    }

    @Test
    void gcRunsAPassAndReportsIt() throws Exception {
        volume.write(0, ByteBuffer.wrap(pattern(0x44, 8192)), false);
        call(ControlProtocol.FLUSH, "vol0");
        volume.write(0, ByteBuffer.wrap(pattern(0x45, 8192)), false); // the first object is now all dead
        call(ControlProtocol.FLUSH, "vol0");
        Map<String, String> f = call(ControlProtocol.GC, "vol0");
        assertEquals("vol0", f.get("volume"));
        assertEquals("1", f.get("objects-retired"), f.toString());
        assertEquals("0", f.get("objects-deleted"), "deleted only after two later checkpoints and the grace: " + f);
        assertEquals("1", f.get("objects-waiting"), f.toString());
        assertEquals(ControlProtocol.E_WRONG_VOLUME, error(ControlProtocol.GC, "other").code());
        ByteBuffer got = ByteBuffer.allocate(8192);
        volume.read(0, got);
        assertArrayEquals(pattern(0x45, 8192), got.array());
    }

    @Test
    void flushAndStatus() throws Exception {
        volume.write(0, ByteBuffer.wrap(pattern(0x33, 8192)), false);
        Map<String, String> f = call(ControlProtocol.FLUSH, "vol0");
        assertEquals("vol0", f.get("volume"));
        Map<String, String> s = call(ControlProtocol.STATUS, "vol0");
        assertEquals("vol0", s.get("volume"));
        assertEquals(Long.toString(SIZE), s.get("size"));
        assertEquals(Long.toString(volume.epoch()), s.get("epoch"));
        assertEquals("test-node", s.get("node"));
        assertEquals("8192", s.get("bytes-written"));
        assertEquals("1", s.get("objects-uploaded"), "flush uploaded the open batch");
        assertEquals("1", s.get("objects"), "one object in the bucket");
        assertTrue(Long.parseLong(s.get("object-bytes")) > 8192, s.toString());
        assertEquals("0", s.get("objects-pending"));
        assertEquals("no", s.get("writes-refused"));
        assertEquals("yes", s.get("extra"));
        assertTrue(s.containsKey("gc") && s.containsKey("gc-bytes-freed"), s.toString());
        assertTrue(s.get("read-cache").startsWith("size=") && s.get("read-cache").contains(" fullHit=")
                && s.get("read-cache").contains(" bucketGets="), "the node's read cache counters: " + s.get("read-cache"));
        assertTrue(s.get("io-buffers").matches("(huge|ordinary)-pages mapped-bytes=\\d+ limit-bytes=\\d+ slabs-past-limit=\\d+"), "io-buffers: " + s.get("io-buffers"));
        assertEquals(ControlProtocol.E_WRONG_VOLUME, error(ControlProtocol.STATUS, "other").code());
        String id = volume.superblock().volumeId();
        assertEquals(id, s.get("volume-id"));
        assertEquals("vol0", call(ControlProtocol.STATUS, "vol0:" + id).get("volume"));
        ControlException otherStore = error(ControlProtocol.SNAPSHOT_CREATE, "vol0:another-id", "s1");
        assertEquals(ControlProtocol.E_WRONG_VOLUME, otherStore.code());
        assertTrue(otherStore.getMessage().contains("not id another-id"), otherStore.getMessage());
        assertEquals(ControlProtocol.E_UNKNOWN_REQUEST, error("reboot", "vol0").code());
    }

    @Test
    void malformedRequests() throws Exception {
        assertEquals(List.of("error unsupported-version this serve speaks control protocol version 1, not '2'"),
                raw("STRATA-CONTROL 2 status vol0"));
        assertTrue(raw("GET / HTTP/1.0").getFirst().startsWith("error bad-request expected 'STRATA-CONTROL 1"));
        assertTrue(raw("STRATA-CONTROL 1 status  vol0").getFirst().startsWith("error bad-request empty argument"));
        assertEquals(List.of("error bad-request request line longer than 4096 bytes"), raw("x".repeat(5000)));
        // Several requests on one connection are answered in order.
        List<String> two = raw("STRATA-CONTROL 1 flush vol0\nSTRATA-CONTROL 1 snapshot-delete vol0 none");
        assertEquals("ok", two.get(2), two.toString());
        assertTrue(two.get(3).startsWith("error snapshot-not-found "), two.toString());
    }

    /** Sends raw lines, half-closes, returns every line of the answer until the server closes. */
    private List<String> raw(String lines) throws IOException {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            ch.write(ByteBuffer.wrap((lines + "\n").getBytes(StandardCharsets.UTF_8)));
            ch.shutdownOutput();
            String all = new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
            return Arrays.asList(all.split("\n"));
        }
    }

    @Test
    void staleSocketIsReplacedLiveOneIsNotOtherFilesAreRefused() throws Exception {
        Path other = tmp.resolve("node/control/other.sock");
        // A listener that goes away without removing its file: what a SIGKILLed serve leaves.
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(other));
        dead.close();
        assertTrue(Files.exists(other));
        assertEquals(ControlClient.Presence.STALE, ControlClient.presence(other));
        assertNull(ControlClient.connect(other), "a stale socket is no serve");
        try (ControlServer s = ControlServer.start(other, new VolumeControl(engine, volume, Map::of))) {
            assertEquals(ControlClient.Presence.LIVE, ControlClient.presence(other));
            // The path of a live serve is never taken over.
            IOException inUse = assertThrows(IOException.class, () -> ControlServer.start(other, (v, a) -> Map.of()));
            assertTrue(inUse.getMessage().contains("in use by another running serve"), inUse.getMessage());
            try (ControlClient c = ControlClient.connect(other)) {
                assertEquals("vol0", c.call(ControlProtocol.STATUS, List.of("vol0"), p -> { }).get("volume"));
            }
        }
        Path file = tmp.resolve("node/control/file.sock");
        Files.writeString(file, "not a socket");
        IOException notSocket = assertThrows(IOException.class, () -> ControlServer.start(file, (v, a) -> Map.of()));
        assertTrue(notSocket.getMessage().contains("is not a socket"), notSocket.getMessage());
        assertEquals("not a socket", Files.readString(file), "never deleted");
    }

    @Test
    void tooLongAPathSaysHowToFixIt() throws Exception {
        Path deep = tmp.resolve("d".repeat(120)).resolve("vol0.sock");
        IOException e = assertThrows(IOException.class, () -> ControlServer.start(deep, (v, a) -> Map.of()));
        assertTrue(e.getMessage().contains("--control PATH"), e.getMessage());
        assertNull(ControlClient.connect(deep), "no file: no serve");
    }

    @Test
    void longRequestsReportProgressAndFinishAcrossClose() throws Exception {
        Path slow = tmp.resolve("node/control/slow.sock");
        CountDownLatch running = new CountDownLatch(1);
        ControlServer s = ControlServer.start(slow, (verb, args) -> {
            running.countDown();
            try {
                Thread.sleep(3_500); // two progress lines (at 1 s and 2 s) with room to spare on a busy machine
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            return Map.of("done", verb);
        });
        List<String> progress = new ArrayList<>();
        CompletableFuture<Map<String, String>> answer = CompletableFuture.supplyAsync(() -> {
            try (ControlClient c = ControlClient.connect(slow)) {
                return c.call("work", List.of("a"), progress::add);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        assertTrue(running.await(10, TimeUnit.SECONDS));
        long t0 = System.nanoTime();
        s.close(); // waits for the request in flight
        assertTrue(Duration.ofNanos(System.nanoTime() - t0).toMillis() > 1_000, "close waited for the request");
        assertEquals(Map.of("done", "work"), answer.get(10, TimeUnit.SECONDS));
        assertTrue(progress.size() >= 2 && progress.getFirst().matches("work a: still running after [0-9]+ s"),
                progress.toString());
        assertFalse(Files.exists(slow));
    }

    @Test
    void serveDyingMidRequestIsReportedAsLost() throws Exception {
        Path dying = tmp.resolve("node/control/dying.sock");
        try (ServerSocketChannel ssc = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ssc.bind(UnixDomainSocketAddress.of(dying));
            CompletableFuture.runAsync(() -> {
                try (SocketChannel ch = ssc.accept()) {
                    ch.read(ByteBuffer.allocate(100)); // the request arrives, then the "serve" dies
                    ch.write(ByteBuffer.wrap("progress working\n".getBytes(StandardCharsets.UTF_8)));
                } catch (IOException ignored) {
                    // the test reports
                }
            });
            try (ControlClient c = ControlClient.connect(dying)) {
                ControlException e = assertThrows(ControlException.class,
                        () -> c.call(ControlProtocol.SNAPSHOT_CREATE, List.of("vol0", "s1"), p -> { }));
                assertEquals(ControlProtocol.E_CONNECTION_LOST, e.code());
                assertTrue(e.getMessage().contains("outcome is unknown"), e.getMessage());
            }
        }
    }

    private static byte[] pattern(int value, int length) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
