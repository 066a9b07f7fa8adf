// The EMFILE reserve: one spare fd held from start-up. When accept() fails
// because the process is out of fds, the listener stays readable and poll
// would report it again at once — a spin. Giving up the spare lets one waiting
// client be accepted (to be told and closed); then the spare is taken back.
// One fd: a pipe would need two, fail with EMFILE, and leave no reserve.

import { plainOs, type LoopOs } from './os.js';

export class AcceptReserve {
  private fd: number;

  constructor(private readonly os: LoopOs) {
    // Taken while the server starts, before the loop (and its trace) begins.
    this.fd = plainOs.spareSocket();
  }

  /** Gives up the spare and accepts one client from `listenFd`: its fd, or -errno. Call retake() once it is closed. */
  acceptOne(listenFd: number): number {
    if (this.fd < 0) return -1;
    this.os.close(this.fd);
    this.fd = -1;
    return this.os.accept(listenFd);
  }

  /** Takes the spare back (the refused client's fd is free again). */
  retake(): void {
    if (this.fd < 0) this.fd = this.os.spareSocket();
  }
}
