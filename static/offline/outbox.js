// The outbox: registrations saved on the tablet until the server has them, in IndexedDB (through idb 8).
// A record keeps in the clear only what sorting and counting need (its client_id, owner user id, when it was
// saved and whether the server refused it); the registration itself is AES-GCM ciphertext (crypto.js).
const DB_NAME = "choqr-offline";
const VERSION = 2;

export async function createOutbox(idb, box) {
  const db = await idb.openDB(DB_NAME, VERSION, {
    upgrade(db) {
      // each store only if missing: a database left empty by something else still gets them
      if (!db.objectStoreNames.contains("keys")) db.createObjectStore("keys", { keyPath: "user_id" });
      if (!db.objectStoreNames.contains("drafts")) {
        db.createObjectStore("drafts", { keyPath: "client_id" }).createIndex("user_id", "user_id");
      }
    },
  });

  async function ofUser(userId) {
    return db.getAllFromIndex("drafts", "user_id", userId);
  }

  async function put(userId, key, draft) {
    const { client_id, created_at, refused, ...secret } = draft;
    const sealed = await box.seal(key, userId, secret);
    await db.put("drafts", { client_id, user_id: userId, created_at, refused: !!refused, ...sealed });
    return draft;
  }

  async function reveal(userId, key, record) {
    const secret = await box.open(key, userId, record);
    return { ...secret, client_id: record.client_id, created_at: record.created_at, refused: record.refused };
  }

  return {
    /** The stored key of this user (a CryptoKey) and the session it came from, or null. */
    async key(userId) {
      return (await db.get("keys", userId)) || null;
    },
    /** Keep this session's key; drafts sealed with the user's previous session key are sealed again with it. */
    async setKey(userId, keyId, key) {
      const old = await db.get("keys", userId);
      if (old && old.key_id !== keyId && old.key) {
        for (const record of await ofUser(userId)) {
          try {
            await put(userId, key, await reveal(userId, old.key, record));
          } catch (e) { /* sealed with a key that is gone: stays unreadable */ }
        }
      }
      await db.put("keys", { user_id: userId, key_id: keyId, key });
    },
    /** Sign-out: the key goes, so what is left of this user's drafts can no longer be read. */
    async forget(userId) {
      await db.delete("keys", userId);
    },
    save: put,
    async get(userId, key, clientId) {
      const record = await db.get("drafts", clientId);
      return record && record.user_id === userId ? reveal(userId, key, record) : null;
    },
    /** This user's drafts, oldest first, decrypted; those that cannot be decrypted are counted apart. */
    async list(userId, key) {
      const drafts = [];
      let unreadable = 0;
      for (const record of await ofUser(userId)) {
        try { drafts.push(await reveal(userId, key, record)); } catch (e) { unreadable += 1; }
      }
      drafts.sort((a, b) => a.created_at - b.created_at);
      return { drafts, unreadable };
    },
    /** Counts for the badge, without the key: how many wait, how many were refused, the oldest time. */
    async counts(userId) {
      const records = await ofUser(userId);
      return {
        total: records.length,
        refused: records.filter((r) => r.refused).length,
        oldest: records.reduce((m, r) => Math.min(m, r.created_at), Infinity),
      };
    },
    async remove(clientId) {
      await db.delete("drafts", clientId);
    },
  };
}
