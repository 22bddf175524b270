package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.engine.readcache.ReadCacheOptions;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.store.ObjectStoreStats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The crash order of deletes that clones outlive (docs/snapshots-and-clones.md, "Deleting while
 * clones read"): each delete is stopped after its 0th, 1st, 2nd, ... bucket request (the process
 * dies there: every later request fails); at every such point every surviving clone still reads
 * exactly its reference, and running the same delete again finishes the job, leaving exactly the
 * remains the clones need — and, once the clones are deleted too, an empty bucket.
 */
class DeletesCrashingAtEveryRequestKeepClonesReadableTest {
    private static final int SIZE = 256 << 10;
    private static final VolumeOptions OPTS = VolumeOptions.defaults().withObjectBytes(64 * 1024)
            .withCheckpointEveryObjects(2).withSealAfter(Duration.ofMillis(5)).withReadCache(ReadCacheOptions.disabled());

    @TempDir
    Path tmp;

    /** A store that dies after {@code budget} requests: every later one fails, like a killed process. */
    static final class CrashingStore implements ObjectStore {
        private final ObjectStore inner;
        private final AtomicInteger budget;

        CrashingStore(ObjectStore inner, int budget) {
            this.inner = inner;
            this.budget = new AtomicInteger(budget);
        }

        boolean crashed() {
            return budget.get() < 0;
        }

        private void request(String what, String key) throws IOException {
            if (budget.decrementAndGet() < 0) {
                throw new IOException("injected crash before " + what + " " + key);
            }
        }

        @Override
        public void put(String key, ByteBuffer data) throws IOException {
            request("PUT", key);
            inner.put(key, data);
        }

        @Override
        public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
            request("PUT-if-absent", key);
            return inner.putIfAbsent(key, data);
        }

        @Override
        public byte[] get(String key) throws IOException {
            request("GET", key);
            return inner.get(key);
        }

        @Override
        public int getRange(String key, long offset, ByteBuffer dst) throws IOException {
            request("GET-range", key);
            return inner.getRange(key, offset, dst);
        }

        @Override
        public List<ObjectInfo> list(String prefix) throws IOException {
            request("LIST", prefix);
            return inner.list(prefix);
        }

        @Override
        public void delete(String key) throws IOException {
            request("DELETE", key);
            inner.delete(key);
        }

        @Override
        public ObjectStoreStats stats() {
            return inner.stats();
        }

        @Override
        public String describe() {
            return "crashing(" + inner.describe() + ")";
        }

        @Override
        public void close() {
        }
    }

    /** The family under test: images of the volumes and clones that must stay readable. */
    private static final class Family {
        final Map<String, byte[]> images = new HashMap<>();
    }

    @FunctionalInterface
    interface Step {
        void run(StrataEngine e, Family f) throws Exception;
    }

    /**
     * src (written, snapshot s, overwritten, unused snapshot u) ← c1 = clone of src@s (written,
     * snapshot t) ← c2 = clone of c1@t (written).
     */
    private static void family(StrataEngine e, Family f) throws Exception {
        Random r = new Random(42);
        e.createVolume("src", SIZE);
        byte[] src = new byte[SIZE];
        try (LogStructuredVolume v = e.openForWrite("src", OPTS, false)) {
            for (int i = 0; i < 12; i++) {
                VolumeImages.randomOp(v, src, r);
            }
            v.createSnapshot("s");
            byte[] atS = src.clone();
            for (int i = 0; i < 12; i++) {
                VolumeImages.randomOp(v, src, r);
            }
            v.createSnapshot("u");
            f.images.put("c1", atS);
        }
        e.cloneVolume("src", "s", "c1");
        byte[] c1 = f.images.get("c1");
        try (LogStructuredVolume v = e.openForWrite("c1", OPTS, false)) {
            for (int i = 0; i < 12; i++) {
                VolumeImages.randomOp(v, c1, r);
            }
            v.createSnapshot("t");
        }
        byte[] c2 = c1.clone();
        e.cloneVolume("c1", "t", "c2");
        try (LogStructuredVolume v = e.openForWrite("c2", OPTS, false)) {
            for (int i = 0; i < 12; i++) {
                VolumeImages.randomOp(v, c2, r);
            }
        }
        f.images.put("c2", c2);
    }

    private static void assertClonesRead(StrataEngine e, Family f, String when) throws Exception {
        for (var img : f.images.entrySet()) {
            try (LogStructuredVolume v = e.openReadOnly(img.getKey(), OPTS)) {
                VolumeImages.assertMatches(v, img.getValue(), img.getKey() + " " + when);
            }
        }
    }

    /**
     * For n = 0, 1, 2, ...: a fresh bucket with {@code setup} done, then {@code op} through a store
     * that dies after n requests; the clones must read right; {@code op} again through the real
     * store must succeed; {@code after} checks the finished state. Stops at the first n where
     * {@code op} completes without a crash.
     */
    private void crashAtEveryRequest(String name, Step setup, Step op, Step after) throws Exception {
        // The family and the setup are made once; each crash point starts from a copy of that bucket.
        Path template = tmp.resolve(name + "-template");
        Family made = new Family();
        StrataEngine maker = new StrataEngine(new LocalDirectoryObjectStore(template.resolve("bucket")), template.resolve("node"),
                "n1");
        family(maker, made);
        setup.run(maker, made);
        for (int n = 0; ; n++) {
            Path dir = tmp.resolve(name + "-" + n);
            copyTree(template.resolve("bucket"), dir.resolve("bucket"));
            ObjectStore real = new LocalDirectoryObjectStore(dir.resolve("bucket"));
            StrataEngine e = new StrataEngine(real, dir.resolve("node"), "n1");
            Family f = new Family();
            f.images.putAll(made.images);
            CrashingStore crashing = new CrashingStore(real, n);
            StrataEngine dying = new StrataEngine(crashing, dir.resolve("node"), "n1");
            boolean completed;
            try {
                op.run(dying, f);
                completed = true;
            } catch (IOException crash) {
                if (!crashing.crashed()) {
                    throw crash;
                }
                completed = false;
            }
            String when = "after a crash at request " + n + " of " + name;
            try {
                assertClonesRead(e, f, when);
                if (!completed) {
                    op.run(e, f);
                }
                assertClonesRead(e, f, "after finishing " + name + " (crash at " + n + ")");
                after.run(e, f);
                // The clones go too: nothing may be left.
                for (String v : List.of("c2", "c1", "src")) {
                    if (e.exists(v)) {
                        e.deleteVolume(v);
                    }
                }
                assertEquals(List.of(), real.list("volumes/"), "garbage left " + when);
            } catch (Throwable t) {
                throw new AssertionError(when + ": " + t, t);
            }
            if (completed) {
                assertTrue(n > 5, name + " finished in " + n + " requests: the wrapper is not in the path");
                return;
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        java.nio.file.Files.createDirectories(to.getParent());
        try (var files = java.nio.file.Files.walk(from)) {
            for (Path p : files.toList()) {
                java.nio.file.Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
    }

    private static List<String> keys(StrataEngine e, String prefix) throws IOException {
        return e.store().list(prefix).stream().map(ObjectInfo::key).toList();
    }

    @Test
    void deletingTheSourceVolumeOfAClone() throws Exception {
        crashAtEveryRequest("delete-src", (e, f) -> {}, (e, f) -> e.deleteVolume("src"), (e, f) -> {
            assertFalse(e.exists("src"));
            List<String> left = keys(e, "volumes/src/");
            assertTrue(left.contains("volumes/src/deleting") && left.contains("volumes/src/snapshots/s"), left.toString());
            assertTrue(left.stream().noneMatch(k -> k.contains("/epochs/") || k.contains("/snapshots/u")), left.toString());
            assertEquals(List.of("c1 (via src@s)"), e.clonesKeepingRemains("src"));
        });
    }

    @Test
    void deletingAnIntermediateCloneKeepsTheChainOfItsClone() throws Exception {
        crashAtEveryRequest("delete-c1", (e, f) -> {
            e.deleteVolume("src");
            f.images.remove("c1");
        }, (e, f) -> e.deleteVolume("c1"), (e, f) -> {
            assertFalse(e.exists("c1"));
            assertTrue(keys(e, "volumes/c1/").contains("volumes/c1/snapshots/t.refs/c2"));
            assertTrue(keys(e, "volumes/src/").contains("volumes/src/snapshots/s.refs/c1"), "c1's remains read through src@s");
        });
    }

    @Test
    void deletingTheLastCloneRemovesEveryRemainUpTheChain() throws Exception {
        crashAtEveryRequest("delete-c2", (e, f) -> {
            e.deleteVolume("src");
            e.deleteVolume("c1");
            f.images.remove("c1");
        }, (e, f) -> {
            f.images.remove("c2");
            e.deleteVolume("c2");
        }, (e, f) -> assertEquals(List.of(), keys(e, "volumes/")));
    }

    @Test
    void deletingASnapshotAClonesReadsAndThenTheClone() throws Exception {
        crashAtEveryRequest("delete-s", (e, f) -> {}, (e, f) -> e.deleteSnapshot("src", "s"), (e, f) -> {
            assertEquals(List.of("u"), e.listSnapshots("src").stream().map(SnapshotRecord::snapshot).toList());
            assertTrue(keys(e, "volumes/src/snapshots/").contains("volumes/src/snapshots/s.deleting"));
        });
        crashAtEveryRequest("delete-s-then-c1", (e, f) -> {
            e.deleteSnapshot("src", "s");
            f.images.remove("c2");
            e.deleteVolume("c2");
        }, (e, f) -> {
            f.images.remove("c1");
            e.deleteVolume("c1");
        }, (e, f) -> {
            assertEquals(List.of("volumes/src/snapshots/u"),
                    keys(e, "volumes/src/snapshots/").stream().filter(k -> !k.contains(".map-")).toList());
        });
    }

    @Test
    void deletionMarkersAreVersionedAndChecksummed() throws Exception {
        StrataEngine e = new StrataEngine(new LocalDirectoryObjectStore(tmp.resolve("bucket")), tmp.resolve("node"), "n1");
        family(e, new Family());
        e.deleteSnapshot("c1", "t");
        e.deleteVolume("src");
        DeletionMarker v = DeletionMarker.decode(e.store().get("volumes/src/deleting"), false, "volume marker");
        assertEquals("src", v.volume());
        DeletionMarker s = DeletionMarker.decode(e.store().get("volumes/c1/snapshots/t.deleting"), true, "snapshot marker");
        assertEquals("t", s.snapshot());
        byte[] bad = e.store().get("volumes/src/deleting");
        bad[bad.length - 3] ^= 1;
        try {
            DeletionMarker.decode(bad, false, "corrupt");
            fail("a corrupt marker decoded");
        } catch (IOException expected) {
            assertTrue(expected.getMessage().contains("corrupt"), expected.getMessage());
        }
    }
}
