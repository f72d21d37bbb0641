using System.Text;

namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// One state the medium may hold after power loss, relative to a recorded log: every write of
/// events [0, <see cref="Prefix"/>) applied in log order, then <see cref="Pending"/> applied in
/// the listed order (a subset of the writes in [<see cref="Prefix"/>, <see cref="Limit"/>),
/// possibly torn). Invariant: no event at or past <see cref="Limit"/> contributes, and
/// [<see cref="Prefix"/>, <see cref="Limit"/>) holds no flush, so the device was free to persist
/// any subset of those writes in any order.
/// </summary>
internal sealed record CrashState(int Seed, int Index, string Kind, int Prefix, int Limit, IReadOnlyList<PendingWrite> Pending)
{
    /// <summary>The base image with this state's writes applied (a new array).</summary>
    public byte[] Apply(byte[] baseImage, IReadOnlyList<DeviceEvent> log, int blockSize)
    {
        var image = (byte[])baseImage.Clone();
        for (int i = 0; i < Prefix; i++)
        {
            if (log[i].Data is { } data)
            {
                data.CopyTo(image, log[i].Offset);
            }
        }

        foreach (var p in Pending)
        {
            var e = log[p.Event];
            var pieces = Split(e.Offset, e.Data!.Length, blockSize);
            foreach (int k in p.Pieces ?? Enumerable.Range(0, pieces.Count).ToArray())
            {
                var (start, length) = pieces[k];
                e.Data.AsSpan(start, length).CopyTo(image.AsSpan((int)(e.Offset + start)));
            }
        }

        return image;
    }

    /// <summary>The pieces of a write of <paramref name="length"/> bytes at <paramref name="offset"/>, cut at multiples of <paramref name="blockSize"/>: (start in the write, length).</summary>
    public static List<(int Start, int Length)> Split(long offset, int length, int blockSize)
    {
        var pieces = new List<(int, int)>();
        int start = 0;
        while (start < length)
        {
            long at = offset + start;
            int n = (int)Math.Min(length - start, blockSize - (at % blockSize));
            pieces.Add((start, n));
            start += n;
        }

        return pieces;
    }

    /// <summary>Everything needed to rebuild this state by hand: seed, index, cut and the applied subset in order.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append($"seed {Seed} state {Index} ({Kind}): events [0,{Prefix}) applied");
        if (Limit > Prefix)
        {
            sb.Append($"; of the unflushed writes [{Prefix},{Limit}) applied in this order: ");
            sb.Append(Pending.Count == 0 ? "none" : string.Join(' ', Pending));
        }

        return sb.ToString();
    }
}
