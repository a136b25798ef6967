import { useEffect, useState } from "react";
import type { Repo } from "@automerge/automerge-repo/slim";

/** True while the renderer is connected to its host (the sync channel is up). */
export function useHostConnection(repo: Repo): boolean {
  const [connected, setConnected] = useState(() => repo.peers.length > 0);
  useEffect(() => {
    const update = () => setConnected(repo.peers.length > 0);
    repo.networkSubsystem.on("peer", update);
    repo.networkSubsystem.on("peer-disconnected", update);
    update();
    return () => {
      repo.networkSubsystem.off("peer", update);
      repo.networkSubsystem.off("peer-disconnected", update);
    };
  }, [repo]);
  return connected;
}
