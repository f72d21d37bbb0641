namespace Safemount.Ext4Service.Bridge;

/// <summary>
/// The kernel's lookup count for every node it holds (FUSE-PROTOCOL.md §1.1): +1 for each
/// LOOKUP reply and each READDIRPLUS entry other than "." and "..", −nlookup for each FORGET.
/// A node whose count returns to zero is dropped. The root is never counted (the kernel holds
/// it for the life of the mount and never forgets it).
/// </summary>
/// <remarks>Lock: <see cref="_gate"/> guards <see cref="_counts"/>; held only for the update.</remarks>
internal sealed class LookupCounts
{
    private readonly object _gate = new();
    private readonly Dictionary<ulong, ulong> _counts = new();

    /// <summary>Number of FORGETs that named more lookups than were handed out (kernel bug or
    /// our accounting bug; either way it is logged and the node is dropped).</summary>
    public long Underflows { get; private set; }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _counts.Count;
            }
        }
    }

    public void Add(ulong nodeId)
    {
        if (nodeId == NodeIds.FuseRoot)
        {
            return;
        }

        lock (_gate)
        {
            _counts.TryGetValue(nodeId, out ulong n);
            _counts[nodeId] = n + 1;
        }
    }

    /// <summary>Subtracts <paramref name="nlookup"/>; returns false on underflow. <paramref name="gone"/>: the count is now 0 (the kernel holds the node no more).</summary>
    public bool Forget(ulong nodeId, ulong nlookup, out bool gone)
    {
        gone = false;
        if (nodeId == NodeIds.FuseRoot)
        {
            return true;
        }

        lock (_gate)
        {
            if (!_counts.TryGetValue(nodeId, out ulong n) || n < nlookup)
            {
                _counts.Remove(nodeId);
                Underflows++;
                gone = true;
                return false;
            }

            if (n == nlookup)
            {
                _counts.Remove(nodeId);
                gone = true;
            }
            else
            {
                _counts[nodeId] = n - nlookup;
            }

            return true;
        }
    }

    public ulong Get(ulong nodeId)
    {
        lock (_gate)
        {
            return _counts.TryGetValue(nodeId, out ulong n) ? n : 0;
        }
    }
}
