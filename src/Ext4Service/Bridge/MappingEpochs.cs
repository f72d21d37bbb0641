namespace Safemount.Ext4Service.Bridge;

/// <summary>
/// Keeps upserts into the kernel's fuse-iomap mapping cache from installing a mapping that went
/// stale while it was on its way. Protocol: IOMAP_BEGIN reads its inode's epoch
/// (<see cref="Read"/>) before it looks the mapping up, and pushes the answer only through
/// <see cref="PublishIfUnchanged"/>, which runs the push under the stripe's lock and only if the
/// epoch is still the one read. Every change that makes cached mappings stale goes through
/// <see cref="Change"/>, which bumps the epoch and sends its invalidation under the same lock.
/// So for a lookup that raced with a change, either the push saw the bump and was skipped, or it
/// ran first and the change's invalidation, sent after it, removes what it cached.
/// </summary>
/// <remarks>
/// Inodes share stripes (ino mod <see cref="Stripes"/>): a change of one inode also skips
/// concurrent pushes for the others of its stripe, which are then merely not cached. The stripe
/// locks are leaves: nothing else is taken under them; the notification written under one never
/// waits for a FUSE request.
/// </remarks>
internal sealed class MappingEpochs
{
    private const int Stripes = 64;

    private readonly object[] _locks = CreateLocks();

    /// <summary>_epochs[i] is guarded by _locks[i]; it only grows.</summary>
    private readonly long[] _epochs = new long[Stripes];

    /// <summary>The epoch of <paramref name="ino"/>'s stripe, to hand to <see cref="PublishIfUnchanged"/>.</summary>
    public long Read(uint ino)
    {
        int s = Stripe(ino);
        lock (_locks[s])
        {
            return _epochs[s];
        }
    }

    /// <summary>Bumps <paramref name="ino"/>'s epoch, then runs <paramref name="invalidate"/>
    /// (may be null: the change needs no message, e.g. the kernel drops the range itself) under the stripe lock.</summary>
    public void Change(uint ino, Action? invalidate)
    {
        int s = Stripe(ino);
        lock (_locks[s])
        {
            _epochs[s]++;
            invalidate?.Invoke();
        }
    }

    /// <summary>Runs <paramref name="publish"/> under the stripe lock when the epoch is still
    /// <paramref name="seen"/>; false (and nothing run) when a change came in between.</summary>
    public bool PublishIfUnchanged(uint ino, long seen, Action publish)
    {
        int s = Stripe(ino);
        lock (_locks[s])
        {
            if (_epochs[s] != seen)
            {
                return false;
            }

            publish();
            return true;
        }
    }

    private static int Stripe(uint ino) => (int)(ino % Stripes);

    private static object[] CreateLocks()
    {
        var locks = new object[Stripes];
        for (int i = 0; i < Stripes; i++)
        {
            locks[i] = new object();
        }

        return locks;
    }
}
