namespace Safemount.Shared.Protocol;

/// <summary>HELLO body (12 bytes): u32 min_version, u32 max_version, u32 flags (none defined; unknown bits ignored).</summary>
public readonly record struct HelloMessage(uint MinVersion, uint MaxVersion, uint Flags)
{
    public void Encode(MessageWriter w)
    {
        w.WriteUInt32(MinVersion);
        w.WriteUInt32(MaxVersion);
        w.WriteUInt32(Flags);
    }

    public static HelloMessage Decode(ref MessageReader r)
    {
        HelloMessage m = new(r.ReadUInt32("min_version"), r.ReadUInt32("max_version"), r.ReadUInt32("flags"));
        r.EnsureEnd();
        return m;
    }
}
