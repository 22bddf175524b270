package dev.strata.engine.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LocalDirectoryObjectStoreTest extends ObjectStoreContractTest {

    @TempDir
    Path dir;

    @Override
    protected ObjectStore openStore() {
        return new LocalDirectoryObjectStore(dir.resolve("objects"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/abs", "a/../b", "..", "a/./b", "a//b", "trailing/", "sp ace", "uni\u00e9", "a\\b",
            "star*", "a/.tmp-123"})
    void invalidKeysAreRejectedNamingTheKey(String key) {
        ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> store.put(key, buf("x")));
        assertTrue(e.getMessage().contains("'" + key + "'"), e.getMessage());
        assertTrue(e.getMessage().contains("invalid key"), e.getMessage());
        assertThrows(ObjectStoreException.class, () -> store.get(key));
        assertThrows(ObjectStoreException.class, () -> store.delete(key));
    }

    @Test
    void keysMapToFilesUnderTheRoot() throws Exception {
        store.put("v/objects/0000000000000001", buf("abc"));
        assertEquals("abc", Files.readString(dir.resolve("objects/v/objects/0000000000000001")));
        assertEquals("file://" + dir.resolve("objects").toAbsolutePath(), store.describe());
    }

    @Test
    void noTemporaryFilesRemainAfterPuts() throws Exception {
        store.put("v/a", buf("1"));
        store.put("v/a", buf("2"));
        store.putIfAbsent("v/b", buf("3"));
        store.putIfAbsent("v/b", buf("4"));
        try (Stream<Path> files = Files.walk(dir)) {
            List<String> temps = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".tmp-")).toList();
            assertEquals(List.of(), temps);
        }
    }

    @Test
    void temporaryFileLeftByACrashIsNeitherListedNorReadable() throws Exception {
        store.put("v/objects/0000000000000001", buf("good"));
        Files.writeString(dir.resolve("objects/v/objects/.tmp-" + java.util.UUID.randomUUID()), "torn");
        assertEquals(List.of(new ObjectInfo("v/objects/0000000000000001", 4)), ObjectStoreContractTest.keysAndSizes(store.list("v/")));
        assertEquals(List.of(new ObjectInfo("v/objects/0000000000000001", 4)), ObjectStoreContractTest.keysAndSizes(store.list("")));
    }

    @Test
    void aKeyThatIsADirectoryOfOtherKeysIsNoObject() throws Exception {
        store.put("v/objects/1", buf("x"));
        assertThrows(NoSuchObjectException.class, () -> store.get("v/objects"));
        store.delete("v/objects");
        assertEquals(1, store.list("v/").size());
    }

    @Test
    void putUnderAKeyThatIsAnObjectFailsWithContext() throws Exception {
        store.put("v/file", buf("x"));
        ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> store.put("v/file/child", buf("y")));
        assertTrue(e.getMessage().contains("v/file/child"), e.getMessage());
    }

    @Test
    void conditionalCreateSeesObjectsWrittenByAnotherStoreOnTheSameDirectory() throws Exception {
        // Two stores on one directory stand in for two processes: the link(2) decides, not a JVM lock.
        try (ObjectStore other = new LocalDirectoryObjectStore(dir.resolve("objects"))) {
            assertTrue(other.putIfAbsent("v/epoch", buf("other")));
        }
        assertEquals(false, store.putIfAbsent("v/epoch", buf("mine")));
        assertEquals("other", new String(store.get("v/epoch")));
    }

    @Test
    void closedStoreRefusesRequests() throws IOException {
        store.close();
        ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> store.put("k", ByteBuffer.allocate(1)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }
}
