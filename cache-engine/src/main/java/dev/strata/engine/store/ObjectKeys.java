package dev.strata.engine.store;

/**
 * Checks object keys before they reach a store, so a bad key fails the same way on every backend
 * instead of escaping the local root directory or meaning something different on S3.
 */
final class ObjectKeys {
    /** Prefix of the local store's in-flight temporary files; no key segment may start with it. */
    static final String TEMP_PREFIX = ".tmp-";

    private ObjectKeys() {}

    /** Throws an {@link ObjectStoreException} naming {@code key} unless it is a valid object key. */
    static void checkKey(String store, String key) throws ObjectStoreException {
        if (key == null || key.isEmpty()) {
            throw new ObjectStoreException(store, String.valueOf(key), "invalid key: empty");
        }
        if (key.charAt(0) == '/') {
            throw new ObjectStoreException(store, key, "invalid key: starts with '/'");
        }
        if (key.charAt(key.length() - 1) == '/') {
            throw new ObjectStoreException(store, key, "invalid key: ends with '/'");
        }
        checkCharacters(store, key, "key");
        for (String segment : key.split("/", -1)) {
            if (segment.isEmpty()) {
                throw new ObjectStoreException(store, key, "invalid key: empty path segment ('//')");
            }
            if (segment.equals(".") || segment.equals("..")) {
                throw new ObjectStoreException(store, key, "invalid key: '" + segment + "' segment");
            }
            if (segment.startsWith(TEMP_PREFIX)) {
                throw new ObjectStoreException(store, key, "invalid key: segment starts with reserved '" + TEMP_PREFIX + "'");
            }
        }
    }

    /** A list prefix may be empty or end in '/', but must not climb out of the store. */
    static void checkPrefix(String store, String prefix) throws ObjectStoreException {
        if (prefix == null) {
            throw new ObjectStoreException(store, "null", "invalid prefix: null");
        }
        if (prefix.startsWith("/")) {
            throw new ObjectStoreException(store, prefix, "invalid prefix: starts with '/'");
        }
        checkCharacters(store, prefix, "prefix");
        for (String segment : prefix.split("/", -1)) {
            if (segment.equals("..")) {
                throw new ObjectStoreException(store, prefix, "invalid prefix: '..' segment");
            }
        }
    }

    private static void checkCharacters(String store, String key, String what) throws ObjectStoreException {
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '/' || c == '-';
            if (!ok) {
                throw new ObjectStoreException(store, key, String.format(
                        "invalid %s: character U+%04X at index %d is outside [A-Za-z0-9._/-]", what, (int) c, i));
            }
        }
    }
}
