package dev.strata.engine.store;

/** A listed object: its key and size in bytes. */
public record ObjectInfo(String key, long size) {}
