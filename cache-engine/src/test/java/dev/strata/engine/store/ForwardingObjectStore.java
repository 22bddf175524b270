package dev.strata.engine.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** Test decorators of an {@link ObjectStore} extend this and override only what they change. */
public abstract class ForwardingObjectStore implements ObjectStore {
    protected final ObjectStore delegate;

    protected ForwardingObjectStore(ObjectStore delegate) {
        this.delegate = delegate;
    }

    @Override
    public void put(String key, ByteBuffer data) throws IOException {
        delegate.put(key, data);
    }

    @Override
    public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
        return delegate.putIfAbsent(key, data);
    }

    @Override
    public byte[] get(String key) throws IOException {
        return delegate.get(key);
    }

    @Override
    public int getRange(String key, long offset, ByteBuffer dst) throws IOException {
        return delegate.getRange(key, offset, dst);
    }

    @Override
    public List<ObjectInfo> list(String prefix) throws IOException {
        return delegate.list(prefix);
    }

    @Override
    public void delete(String key) throws IOException {
        delegate.delete(key);
    }

    @Override
    public ObjectStoreStats stats() {
        return delegate.stats();
    }

    @Override
    public String describe() {
        return delegate.describe();
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
