package dev.strata.engine.store;

import java.io.IOException;

/** A failed object store request; the message names the store and the key. */
public class ObjectStoreException extends IOException {
    private final String store;
    private final String key;

    public ObjectStoreException(String store, String key, String message, Throwable cause) {
        super(store + " key '" + key + "': " + message, cause);
        this.store = store;
        this.key = key;
    }

    public ObjectStoreException(String store, String key, String message) {
        this(store, key, message, null);
    }

    public String store() {
        return store;
    }

    public String key() {
        return key;
    }
}
