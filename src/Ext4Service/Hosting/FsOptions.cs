using Safemount.Shared.CommandLine;

namespace Safemount.Ext4Service.Hosting;

/// <summary>
/// The ext4 mount options (the -o options the helper did not consume as mount flags), parsed
/// the way fs/ext4/super.c ext4_parse_param accepts them. Options that only tune the kernel's
/// write path are accepted and have no effect on a read-only service; options that would change
/// what is read (another superblock, an external journal) are refused until they are
/// implemented, so nothing is silently ignored that could change the answer.
/// </summary>
internal sealed class FsOptions
{
    /// <summary>Longest option string considered (the protocol bounds it too).</summary>
    public const int MaxOptionsLength = 4096;

    /// <summary>Options accepted with no value that do not change what a read-only mount shows.</summary>
    private static readonly HashSet<string> NoEffectFlags = new(StringComparer.Ordinal)
    {
        // generic VFS flags, applied by the helper as mount attributes
        "ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "atime", "noatime",
        "relatime", "norelatime", "strictatime", "nostrictatime", "diratime", "nodiratime",
        "lazytime", "nolazytime", "sync", "async", "dirsync", "iversion", "noiversion",
        "mand", "nomand", "silent", "loud", "defaults",
        // ext4 options that tune writing, allocation or journaling
        "barrier", "nobarrier", "discard", "nodiscard", "delalloc", "nodelalloc",
        "auto_da_alloc", "noauto_da_alloc", "journal_checksum", "nojournal_checksum",
        "journal_async_commit", "init_itable", "noinit_itable", "block_validity",
        "noblock_validity", "dioread_lock", "dioread_nolock", "nombcache", "no_mbcache",
        "grpid", "bsdgroups", "nogrpid", "sysvgroups", "user_xattr", "acl", "i_version",
        "prefetch_block_bitmaps", "nouid32", "debug", "oldalloc", "orlov", "quota", "noquota",
        "usrquota", "grpquota", "prjquota",
    };

    /// <summary>Options with a value that do not change what a read-only mount shows.</summary>
    private static readonly HashSet<string> NoEffectValued = new(StringComparer.Ordinal)
    {
        "stripe", "resuid", "resgid", "max_batch_time", "min_batch_time",
        "journal_ioprio", "inode_readahead_blks", "max_dir_size_kb", "init_itable", "barrier",
        "auto_da_alloc", "mb_optimize_scan", "data", "data_err", "context", "fscontext",
        "defcontext", "rootcontext",
    };

    private FsOptions()
    {
    }

    /// <summary>errors= behaviour: "continue", "remount-ro" or "panic"; null (not given): the
    /// superblock's s_errors, as ext4. panic shuts the file system down instead of the kernel
    /// (a userspace service cannot panic the kernel, and must not).</summary>
    public string? Errors { get; private set; }

    /// <summary>commit=N: seconds between automatic write-backs of a read-write mount; null (not
    /// given) or 0: the default of 5 s, as ext4. At most <see cref="MaxCommitSeconds"/>.</summary>
    public uint? CommitSeconds { get; private set; }

    /// <summary>Largest commit= accepted: ext4 refuses values above INT_MAX / HZ; one day is far past any use.</summary>
    public const uint MaxCommitSeconds = 86400;

    /// <summary>noload / norecovery: do not replay the journal (read-only mounts only).</summary>
    public bool NoLoad { get; private set; }

    /// <summary>iomap=auto|on|off (bare "iomap" = on): the FUSE data path. The helper acts on it
    /// before mount (FUSE_DEV_IOC_ADD_IOMAP); here off keeps FUSE_IOMAP out of INIT even when
    /// the fd was opted in.</summary>
    public IomapMode Iomap { get; private set; } = IomapMode.Auto;

    /// <summary>cache_size=SIZE: byte budget of the engine's metadata block cache; null (not
    /// given): <see cref="Ext4.Ext4OpenOptions.DefaultCacheBytes"/>. SIZE is bytes with an
    /// optional binary suffix k, m or g (either case), as tmpfs size= (the kernel's memparse),
    /// between <see cref="MinCacheBytes"/> and <see cref="MaxCacheBytes"/>.</summary>
    public long? CacheBytes { get; private set; }

    /// <summary>Smallest cache_size= accepted: 1 MiB (the cache keeps at least 64 blocks whatever the budget).</summary>
    public const long MinCacheBytes = 1L << 20;

    /// <summary>Largest cache_size= accepted: 64 GiB, far above any metadata working set of this service.</summary>
    public const long MaxCacheBytes = 64L << 30;

    /// <summary>Options dropped because the helper asked for sloppy parsing (mount -s).</summary>
    public IReadOnlyList<string> Dropped => _dropped;

    private readonly List<string> _dropped = [];

    /// <summary>Parses <paramref name="text"/>; on failure returns null and a one-line reason.
    /// With <paramref name="sloppy"/> (mount -s) unknown options are dropped and listed in
    /// <see cref="Dropped"/> instead; values that are invalid for a known option still fail.</summary>
    public static FsOptions? Parse(string text, out string? error, bool sloppy = false)
    {
        error = null;
        var result = new FsOptions();
        if (text.Length > MaxOptionsLength)
        {
            error = $"mount options are longer than {MaxOptionsLength} bytes";
            return null;
        }

        // Quote-aware, as the helper and libmount split: 'x="a,b"' is one (unknown) option.
        List<string>? items = MountOptionList.Split(text, out error);
        if (items is null)
        {
            return null;
        }

        foreach (string raw in items)
        {
            string name = raw;
            string? value = null;
            int eq = raw.IndexOf('=');
            if (eq >= 0)
            {
                name = raw[..eq];
                value = raw[(eq + 1)..];
            }

            switch (name)
            {
                case "errors" when value is "continue" or "remount-ro" or "panic":
                    result.Errors = value;
                    continue;
                case "errors":
                    error = $"invalid value for mount option 'errors': '{value}' (continue, remount-ro or panic)";
                    return null;
                case "commit" when uint.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint seconds) && seconds <= MaxCommitSeconds:
                    result.CommitSeconds = seconds;
                    continue;
                case "commit":
                    error = $"invalid value for mount option 'commit': '{value}' (seconds, 0 to {MaxCommitSeconds})";
                    return null;
                case "cache_size" when TryParseSize(value, out long bytes) && bytes is >= MinCacheBytes and <= MaxCacheBytes:
                    result.CacheBytes = bytes;
                    continue;
                case "cache_size":
                    error = $"invalid value for mount option 'cache_size': '{value}' (bytes with an optional k, m or g suffix, 1m to 64g)";
                    return null;
                case IomapOption.Name when IomapOption.TryParse(value, out IomapMode iomap):
                    result.Iomap = iomap;
                    continue;
                case IomapOption.Name:
                    error = $"invalid value for mount option 'iomap': '{value}' ({IomapOption.ValidValues})";
                    return null;
                case "noload" or "norecovery" when value is null:
                    result.NoLoad = true;
                    continue;
                case "sb" or "journal_path" or "journal_dev" or "journal" or "usrjquota" or "grpjquota" or "jqfmt" or "test_dummy_encryption" or "dax" or "inlinecrypt":
                    error = $"mount option '{name}' is not supported by safe.ext4 yet";
                    return null;
            }

            if ((value is null && NoEffectFlags.Contains(name)) || (value is not null && NoEffectValued.Contains(name)))
            {
                continue;
            }

            if (sloppy)
            {
                result._dropped.Add(raw);
                continue;
            }

            error = $"unknown mount option '{raw}'";
            return null;
        }

        return result;
    }

    /// <summary>Decimal digits with an optional binary suffix k/K (2^10), m/M (2^20) or g/G
    /// (2^30); false for anything else, including an empty value and a product past long.</summary>
    private static bool TryParseSize(string? value, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        int shift = char.ToLowerInvariant(value[^1]) switch
        {
            'k' => 10,
            'm' => 20,
            'g' => 30,
            _ => 0,
        };
        ReadOnlySpan<char> digits = shift == 0 ? value : value.AsSpan(0, value.Length - 1);
        if (!long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n)
            || n > long.MaxValue >> shift)
        {
            return false;
        }

        bytes = n << shift;
        return true;
    }
}
