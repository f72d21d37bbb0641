namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// An unflushed write that reached the medium in a crash state: log event <see cref="Event"/>,
/// whole (<see cref="Pieces"/> null) or torn: only the listed pieces, where piece i is the i-th
/// run of the write cut at file-system-block boundaries of the device (a write that starts
/// mid-block has a short first piece).
/// </summary>
internal sealed record PendingWrite(int Event, int[]? Pieces)
{
    public override string ToString() => Pieces is null ? $"#{Event}" : $"#{Event}{{{string.Join(',', Pieces)}}}";
}
