// /swarm, /nodes, /services, /tasks, /secrets, /configs: Berth is never part of a swarm, so
// every swarm endpoint answers as a Docker daemon that has not joined one (503 with moby's
// texts). Clients rely on this: docker-py's tear-down calls `POST /swarm/leave` after every
// network test and treats 503 as "nothing to leave", while a 404 made it fail.
import type { HTTPMethod } from 'find-my-way';
import { UnavailableError } from '../../../errdefs/index.ts';
import type { Route } from '../../server.ts';

/** moby's errNoSwarm: what leaving (the only call that needs an existing node) says. */
export const NO_SWARM = 'This node is not part of a swarm';
/** moby's errNoManager for a node with no swarm at all: what every manager-only call says. */
export const NOT_A_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
/** Init and join would start a swarm node on Docker; Berth has no swarm mode to start. */
export const NO_SWARM_MODE = `${NO_SWARM}, and Berth cannot init or join one: swarm mode is not supported (use plain containers and networks instead)`;

/** Every swarm path and method of the Engine API (v1.43 spec) and what Docker answers there. */
const ENDPOINTS: ReadonlyArray<readonly [HTTPMethod, string, string]> = [
  ['GET', '/swarm', NOT_A_MANAGER],
  ['POST', '/swarm/init', NO_SWARM_MODE],
  ['POST', '/swarm/join', NO_SWARM_MODE],
  ['POST', '/swarm/leave', NO_SWARM],
  ['POST', '/swarm/update', NOT_A_MANAGER],
  ['GET', '/swarm/unlockkey', NOT_A_MANAGER],
  ['POST', '/swarm/unlock', NOT_A_MANAGER],
  ['GET', '/nodes', NOT_A_MANAGER],
  ['GET', '/nodes/:id', NOT_A_MANAGER],
  ['DELETE', '/nodes/:id', NOT_A_MANAGER],
  ['POST', '/nodes/:id/update', NOT_A_MANAGER],
  ['GET', '/services', NOT_A_MANAGER],
  ['POST', '/services/create', NOT_A_MANAGER],
  ['GET', '/services/:id', NOT_A_MANAGER],
  ['DELETE', '/services/:id', NOT_A_MANAGER],
  ['POST', '/services/:id/update', NOT_A_MANAGER],
  ['GET', '/services/:id/logs', NOT_A_MANAGER],
  ['GET', '/tasks', NOT_A_MANAGER],
  ['GET', '/tasks/:id', NOT_A_MANAGER],
  ['GET', '/tasks/:id/logs', NOT_A_MANAGER],
  ['GET', '/secrets', NOT_A_MANAGER],
  ['POST', '/secrets/create', NOT_A_MANAGER],
  ['GET', '/secrets/:id', NOT_A_MANAGER],
  ['DELETE', '/secrets/:id', NOT_A_MANAGER],
  ['POST', '/secrets/:id/update', NOT_A_MANAGER],
  ['GET', '/configs', NOT_A_MANAGER],
  ['POST', '/configs/create', NOT_A_MANAGER],
  ['GET', '/configs/:id', NOT_A_MANAGER],
  ['DELETE', '/configs/:id', NOT_A_MANAGER],
  ['POST', '/configs/:id/update', NOT_A_MANAGER],
];

export function swarmRoutes(): Route[] {
  return ENDPOINTS.map(([method, path, message]) => ({
    method,
    path,
    // The request body is left unread: nothing in it could change the answer.
    handler: () => {
      throw new UnavailableError('NO_SWARM', message);
    },
  }));
}
