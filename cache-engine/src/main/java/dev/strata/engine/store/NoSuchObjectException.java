package dev.strata.engine.store;

/** The key names no object. */
public class NoSuchObjectException extends ObjectStoreException {
    public NoSuchObjectException(String store, String key) {
        super(store, key, "no such object");
    }
}
