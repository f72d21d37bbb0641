namespace Safemount.Ext4;

/// <summary>Expected outcomes of a directory edit (<see cref="DirectoryEditor"/>).</summary>
internal enum DirEditResult
{
    Ok,

    /// <summary>The name is already there (EEXIST).</summary>
    Exists,

    /// <summary>The name is not there (ENOENT).</summary>
    NotFound,

    /// <summary>No block could be allocated, or the htree is at its maximum depth and full (ENOSPC).</summary>
    NoSpace,
}
