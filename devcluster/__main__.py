"""`make cluster`: a local control plane with riposte's namespace and RBAC, until Ctrl-C."""

from __future__ import annotations

import contextlib
import signal
import sys

from devcluster import manifests
from devcluster.controlplane import ControlPlane


def main() -> None:
    with ControlPlane.start() as plane:
        manifests.apply(plane.client(), manifests.base())
        print(f"kube-apiserver ready at {plane.url}", file=sys.stderr)
        print(f"  export KUBECONFIG={plane.kubeconfig}", file=sys.stderr)
        print(f"  kubectl: {manifests.kubectl()} (the venv's, pinned)", file=sys.stderr)
        print(
            "  run a function as its ServiceAccount: see README 'Running a function locally'",
            file=sys.stderr,
        )
        print("Ctrl-C stops etcd and the apiserver and removes their data.", file=sys.stderr)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
