namespace Safemount.Ext4;

/// <summary>What <see cref="DirectoryEditor"/> needs to know of the file system and the directory inode.</summary>
/// <param name="MetadataCsum">metadata_csum: leaves carry ext4_dir_entry_tail, index blocks dx_tail.</param>
/// <param name="InodeSeed">the directory inode's checksum seed (crc32c(fs seed, ino, generation)).</param>
/// <param name="DirIndex">dir_index: a full one-block directory becomes indexed.</param>
/// <param name="Indexed">EXT4_INDEX_FL is set (and dir_index is on).</param>
/// <param name="DefHashVersion">s_def_hash_version, written into a new dx_root.</param>
/// <param name="UnsignedHash">EXT2_FLAGS_UNSIGNED_HASH: hash versions 0..2 mean their unsigned variants.</param>
/// <param name="HashSeed">s_hash_seed (4 words).</param>
/// <param name="MaxLevels">index levels allowed: 2, or 3 with large_dir (ext4_dir_htree_level).</param>
internal sealed record DirectoryEditorParams(
    bool MetadataCsum,
    uint InodeSeed,
    bool DirIndex,
    bool Indexed,
    byte DefHashVersion,
    bool UnsignedHash,
    uint[] HashSeed,
    int MaxLevels);
