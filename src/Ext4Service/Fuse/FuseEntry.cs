namespace Safemount.Fuse;

/// <summary>A looked-up node: its FUSE node id (0 = negative entry, or "no attributes" in
/// READDIRPLUS), its generation and attributes. The session adds entry/attr timeouts.</summary>
public readonly record struct FuseEntry(ulong NodeId, ulong Generation, FuseAttr Attr);
